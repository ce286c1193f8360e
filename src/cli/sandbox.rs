//! `acp-cockpit sandbox` (being built).

use clap::Args as ClapArgs;

use super::GlobalArgs;

#[derive(Debug, ClapArgs)]
pub struct Args {}

pub async fn run(_args: Args, _global: &GlobalArgs) -> anyhow::Result<i32> {
    super::reserved::run("sandbox")
}
