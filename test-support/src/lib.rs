//! What the workspace's tests share: a temporary folder, a Redis server of
//! a test's own, and a stand-in of FoxReach's management API. Never
//! published: a path dev-dependency, stripped from the published crates.

pub mod folder;
pub mod redis_server;
pub mod stand_in;
