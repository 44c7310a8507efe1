//! `consumption_discovery` and `inventory_extractor` (D4).

use crate::machine::{Ctx, Flow};

pub(crate) fn consumption_discovery(ctx: &mut Ctx<'_>) -> Result<(), Flow> {
    ctx.step("pipeline", "failed", "not_implemented");
    Err(Flow::Failed("not_implemented".into()))
}

pub(crate) fn inventory_extractor(ctx: &mut Ctx<'_>) -> Result<(), Flow> {
    ctx.step("pipeline", "failed", "not_implemented");
    Err(Flow::Failed("not_implemented".into()))
}
