//! Who is asking and whether they may: bearer-token authentication, impersonation and the
//! authorization check with the apiserver's Forbidden wording.

use http::{HeaderMap, header};

use super::Shared;
use crate::sandbox::apiserver::authz::{self, Decision, RequestAttributes, UserInfo};
use crate::sandbox::apiserver::status::{self, ApiError};
use crate::sandbox::apiserver::store::StoreView;

pub(super) fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<UserInfo, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .ok_or_else(ApiError::unauthorized)?;
    shared
        .users
        .get(token)
        .cloned()
        .ok_or_else(ApiError::unauthorized)
}

pub(super) fn scope_phrase(ns: Option<&str>) -> String {
    match ns {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    }
}

/// The 403 a real apiserver sends.
pub(super) fn forbidden(user: &UserInfo, a: &RequestAttributes, reason: &str) -> ApiError {
    let suffix = if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    };
    if !a.resource_request {
        return ApiError::forbidden(format!(
            "forbidden: User \"{}\" cannot {} path \"{}\"{suffix}",
            user.name, a.verb, a.path
        ));
    }
    let qualified = if a.api_group.is_empty() {
        a.resource.clone()
    } else {
        format!("{}.{}", a.resource, a.api_group)
    };
    let subject = match &a.name {
        Some(n) => format!("{qualified} \"{n}\""),
        None => qualified,
    };
    let res = if a.subresource.is_empty() {
        a.resource.clone()
    } else {
        format!("{}/{}", a.resource, a.subresource)
    };
    ApiError::forbidden(format!(
        "{subject} is forbidden: User \"{}\" cannot {} resource \"{res}\" in API group \"{}\" {}{suffix}",
        user.name,
        a.verb,
        a.api_group,
        scope_phrase(a.namespace.as_deref())
    ))
    .with_details(status::Details {
        name: a.name.clone().unwrap_or_default(),
        group: a.api_group.clone(),
        kind: a.resource.clone(),
        ..status::Details::default()
    })
}

pub(super) fn check(
    view: &StoreView<'_>,
    user: &UserInfo,
    a: &RequestAttributes,
) -> Result<(), ApiError> {
    match authz::authorize(view, user, a) {
        Decision::Allow => Ok(()),
        Decision::Deny(reason) => Err(forbidden(user, a, &reason)),
    }
}

/// Applies `Impersonate-*` headers after checking the `impersonate` verb for each.
pub(super) fn impersonate(
    view: &StoreView<'_>,
    user: UserInfo,
    headers: &HeaderMap,
    cluster: &str,
    path: &str,
) -> Result<UserInfo, ApiError> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|s| s.trim().to_string())
            .collect()
    };
    let target_user = values("impersonate-user").into_iter().next();
    let groups = values("impersonate-group");
    let uid = values("impersonate-uid").into_iter().next();
    let extras: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| {
            let key = k.as_str().strip_prefix("impersonate-extra-")?;
            Some((key.to_string(), v.to_str().ok()?.to_string()))
        })
        .collect();
    let Some(target) = target_user else {
        if !groups.is_empty() || uid.is_some() || !extras.is_empty() {
            return Err(ApiError::internal(
                "requested impersonation of groups, uid or extra without impersonating a user",
            ));
        }
        return Ok(user);
    };
    let attrs = |resource: &str, sub: &str, ns: Option<&str>, name: &str| RequestAttributes {
        verb: "impersonate".into(),
        resource_request: true,
        api_group: if resource == "serviceaccounts" {
            String::new()
        } else {
            "authentication.k8s.io".into()
        },
        api_version: "v1".into(),
        resource: resource.into(),
        subresource: sub.into(),
        namespace: ns.map(str::to_string),
        name: Some(name.to_string()),
        path: path.to_string(),
        cluster: cluster.to_string(),
    };
    let sa = target
        .strip_prefix("system:serviceaccount:")
        .and_then(|r| r.split_once(':'));
    let first = match sa {
        Some((ns, name)) => {
            let mut a = attrs("serviceaccounts", "", Some(ns), name);
            a.api_group = String::new();
            a
        }
        None => {
            let mut a = attrs("users", "", None, &target);
            a.api_group = String::new();
            a
        }
    };
    check(view, &user, &first)?;
    for g in &groups {
        let mut a = attrs("groups", "", None, g);
        a.api_group = String::new();
        check(view, &user, &a)?;
    }
    if let Some(u) = &uid {
        check(view, &user, &attrs("uids", "", None, u))?;
    }
    for (k, v) in &extras {
        check(view, &user, &attrs("userextras", k, None, v))?;
    }
    let mut out_groups = groups;
    if let Some((ns, _)) = sa {
        for g in [
            "system:serviceaccounts".to_string(),
            format!("system:serviceaccounts:{ns}"),
        ] {
            if !out_groups.contains(&g) {
                out_groups.push(g);
            }
        }
    }
    if target != "system:anonymous" && !out_groups.iter().any(|g| g == "system:authenticated") {
        out_groups.push("system:authenticated".into());
    }
    Ok(UserInfo {
        name: target,
        groups: out_groups,
    })
}
