//! Fields that go together, stated in the OpenAPI document: a position is a latitude and a
//! longitude, both or neither (the handlers answer 422 "latitude and longitude go together"
//! otherwise), and an accuracy only comes with a position. utoipa's derive cannot say it, so
//! every component schema with both properties gets the rule here.

use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{OpenApi, RefOr};

pub fn add(doc: &mut OpenApi) {
    let Some(components) = doc.components.as_mut() else { return };
    for schema in components.schemas.values_mut() {
        let RefOr::T(Schema::Object(object)) = schema else { continue };
        if !(object.properties.contains_key("latitude") && object.properties.contains_key("longitude")) {
            continue;
        }
        let typed = |t: Type| ObjectBuilder::new().schema_type(t);
        let located = ObjectBuilder::new()
            .property("latitude", typed(Type::Number))
            .property("longitude", typed(Type::Number))
            .required("latitude")
            .required("longitude");
        let mut nowhere =
            ObjectBuilder::new().property("latitude", typed(Type::Null)).property("longitude", typed(Type::Null));
        if object.properties.contains_key("accuracy_m") {
            nowhere = nowhere.property("accuracy_m", typed(Type::Null));
        }
        let either = AnyOfBuilder::new().item(located).item(nowhere);
        *schema = RefOr::T(Schema::AllOf(AllOfBuilder::new().item(object.clone()).item(either).build()));
    }
}
