//! Conditions as the timeline reads them, from clusters, machines or anything alike.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::NOT_CREATE_STEPS;
use crate::domain::cluster::Condition;

/// Timestamps before this are "zero" times written by a controller that had none.
pub(super) const EPOCH_FLOOR_SECS: i64 = 86_400;

/// Samples kept per step type; older ones are dropped so stats stay bounded.
pub(super) const MAX_SAMPLES_PER_STEP: usize = 256;

/// Converts a kube timestamp, treating zero/ancient ones as absent.
pub fn to_utc(t: &Time) -> Option<DateTime<Utc>> {
    let secs = t.0.as_second();
    if secs < EPOCH_FLOOR_SECS {
        return None;
    }
    DateTime::from_timestamp(secs, u32::try_from(t.0.subsec_nanosecond()).unwrap_or(0))
}

/// A condition as the timeline reads it: the API type, or a compact copy kept by a model.
pub trait CondLike {
    fn kind(&self) -> &str;
    /// `True`, `False` or `Unknown`.
    fn status(&self) -> &str;
    fn transition(&self) -> Option<DateTime<Utc>>;
    fn reason(&self) -> Option<&str>;
    fn message(&self) -> Option<&str>;
    /// The type as a shared string, for plans; a compact copy overrides this to share its own.
    fn kind_arc(&self) -> Arc<str> {
        Arc::from(self.kind())
    }
    fn is_true(&self) -> bool {
        self.status() == "True"
    }
    fn is_false(&self) -> bool {
        self.status() == "False"
    }
}

impl<C: CondLike> CondLike for &C {
    fn kind(&self) -> &str {
        (**self).kind()
    }
    fn status(&self) -> &str {
        (**self).status()
    }
    fn transition(&self) -> Option<DateTime<Utc>> {
        (**self).transition()
    }
    fn reason(&self) -> Option<&str> {
        (**self).reason()
    }
    fn message(&self) -> Option<&str> {
        (**self).message()
    }
    fn kind_arc(&self) -> Arc<str> {
        (**self).kind_arc()
    }
}

/// A condition type written after creation ([`NOT_CREATE_STEPS`]), not a creation step.
pub fn is_post_creation(kind: &str) -> bool {
    NOT_CREATE_STEPS.contains(&kind)
}

/// Creation steps and post-creation checks, each in array order: a health check that fails
/// on a created cluster is not step 29 of its creation.
pub fn split_checks<C: CondLike>(conditions: &[C]) -> (Vec<&C>, Vec<&C>) {
    conditions.iter().partition(|c| !is_post_creation(c.kind()))
}

impl CondLike for Condition {
    fn kind(&self) -> &str {
        &self.type_
    }
    fn status(&self) -> &str {
        &self.status
    }
    fn transition(&self) -> Option<DateTime<Utc>> {
        self.last_transition_time.as_ref().and_then(to_utc)
    }
    fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
    fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}
