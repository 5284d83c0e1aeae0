//! The portal as the school's OpenID Connect provider: the JOSE side of it. Its id
//! tokens are signed RS256 (what every relying party supports) with a key generated
//! here at the first start and kept in the database, so that every instance signs with
//! it; the JWKS publishes it (and a retired key until its tokens have expired). Keys
//! and the JWKS go through the `openidconnect` crate's types and the `rsa` crate: no
//! JOSE by hand. The rules (who may register, what a key's life is) are
//! `portal_core::service::federation`'s.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use domain::secret::Secret;
use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeySet, CoreRsaPrivateSigningKey};
use openidconnect::{JsonWebKeyId, PrivateSigningKey as _};
use portal_core::ports::SigningKeyRecord;
use portal_core::service::federation::NewSigningKey;
use portal_core::service::Portal;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use sha2::{Digest as _, Sha256};

/// The algorithm of the keys made here.
pub const ALGORITHM: &str = "RS256";
/// RSA modulus size: RFC 7518 asks for at least 2048 bits, and every relying party
/// accepts them.
const RSA_BITS: usize = 2048;
/// How long a relying party may keep the JWKS before asking again.
const JWKS_MAX_AGE_SECS: u32 = 60;

/// A new RS256 signing key; its id is its RFC 7638 thumbprint.
pub fn generate_key() -> Result<NewSigningKey, String> {
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_BITS)
        .map_err(|e| format!("could not generate a signing key: {e}"))?;
    let pem = key
        .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
        .map_err(|e| format!("could not encode the signing key: {e}"))?;
    let kid = thumbprint(&key);
    // The public half, as the JWKS will publish it: made once, here, so that serving
    // the JWKS never reads a private key.
    let public = CoreRsaPrivateSigningKey::from_pem(&pem, Some(JsonWebKeyId::new(kid.clone())))
        .map_err(|e| format!("could not read the new signing key: {e}"))?
        .as_verification_key();
    let public_jwk = serde_json::to_string(&public)
        .map_err(|e| format!("could not encode the public key: {e}"))?;
    Ok(NewSigningKey {
        kid,
        algorithm: ALGORITHM.to_string(),
        private_pem: Secret::new(pem.as_str()),
        public_jwk,
    })
}

/// The RFC 7638 thumbprint of the key's public half: SHA-256 over its required JWK
/// members in lexicographic order, base64url.
fn thumbprint(key: &rsa::RsaPrivateKey) -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let members = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        b64(&key.e().to_bytes_be()),
        b64(&key.n().to_bytes_be())
    );
    b64(&Sha256::digest(members.as_bytes()))
}

/// The JSON Web Key Set of `keys`' public halves (their stored JWKs: no private key is
/// read).
pub fn jwks(keys: &[SigningKeyRecord]) -> Result<CoreJsonWebKeySet, String> {
    let public = keys
        .iter()
        .map(|key| {
            serde_json::from_str::<CoreJsonWebKey>(&key.public_jwk)
                .map_err(|e| format!("signing key {}'s public JWK cannot be read: {e}", key.kid))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CoreJsonWebKeySet::new(public))
}

/// `GET /oidc/jwks`.
pub async fn jwks_endpoint(State(portal): State<Arc<Portal>>) -> Response {
    let keys = match portal.published_signing_keys().await {
        Ok(keys) => keys,
        Err(error) => return crate::errors::route_error(error),
    };
    match jwks(&keys).and_then(|set| serde_json::to_vec(&set).map_err(|e| e.to_string())) {
        Ok(body) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_str(&format!("public, max-age={JWKS_MAX_AGE_SECS}"))
                        .unwrap_or(HeaderValue::from_static("no-store")),
                ),
            ],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "the JWKS could not be built");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_published_under_its_thumbprint() {
        let key = generate_key().expect("key");
        assert_eq!(key.algorithm, "RS256");
        assert!(key
            .private_pem
            .expose()
            .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        let record = SigningKeyRecord {
            kid: key.kid.clone(),
            algorithm: key.algorithm,
            private_pem: key.private_pem,
            public_jwk: key.public_jwk,
            created_at: 0,
            retired_at: None,
        };
        let set = serde_json::to_value(jwks(&[record]).expect("jwks")).expect("json");
        let published = &set["keys"][0];
        assert_eq!(published["kty"], "RSA");
        assert_eq!(published["kid"], key.kid.as_str());
        assert!(
            published.get("d").is_none(),
            "the private exponent leaked: {published}"
        );
        // The thumbprint is 43 characters of base64url (SHA-256).
        assert_eq!(key.kid.len(), 43);
    }
}
