//! What crosses the wire between the browser and the server: the errors a request may
//! end in (with their HTTP status and `Retry-After`), the views the journey pages draw
//! and the staff pages' types. Serde types over the `domain` rules, nothing else: the
//! server's core returns them, the Leptos crate sends them, the browser reads them.

pub mod error;
pub mod staff;
pub mod view;

pub use error::{AppError, InputProblem};
pub use view::{AppTile, JourneyView, ResetView, TileKind};
