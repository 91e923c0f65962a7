pub mod audit;
pub mod findings;
pub mod nonces;
pub mod reports;
pub mod resources;
pub mod sessions;
