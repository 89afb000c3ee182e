use async_graphql::{Context, Object, ResultExt};

use crate::context::viewer;
use crate::error::ApiResult;
use crate::types::Me;

#[derive(Default)]
pub struct MeQuery;

#[Object]
impl MeQuery {
    /// The principal of this request and what they see.
    async fn me(&self, context: &Context<'_>) -> async_graphql::Result<Me> {
        me(context).extend()
    }
}

fn me(context: &Context<'_>) -> ApiResult<Me> {
    {
        let viewer = viewer(context)?;
        Ok(Me {
            user_id: viewer.principal.user_id.clone(),
            unit: viewer.principal.unit.to_string(),
            roles: viewer
                .principal
                .roles
                .iter()
                .map(|role| {
                    serde_json::to_value(role)
                        .ok()
                        .and_then(|value| value.as_str().map(str::to_uppercase))
                        .unwrap_or_default()
                })
                .collect(),
            visible_units: viewer.units.iter().map(ToString::to_string).collect(),
            sees_personal_data: viewer.sees_personal_data(),
        })
    }
}
