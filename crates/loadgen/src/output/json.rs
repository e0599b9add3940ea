//! JSON output: the [`LoadReport`] as is (pretty-printed), for machines; schema in `crates/loadgen/schema/`.

use super::{ExportError, Exporter};
use crate::LoadReport;

pub struct Json;

impl Exporter for Json {
    fn export(&self, report: &LoadReport) -> Result<Vec<u8>, ExportError> {
        let mut bytes = serde_json::to_vec_pretty(report)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::sample;
    use crate::Model;

    /// The committed schema the JSON output promises.
    const SCHEMA: &str = include_str!("../../schema/load-report.schema.json");

    #[test]
    fn output_validates_against_the_committed_schema() {
        let schema: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
        for model in [Model::Users, Model::Concurrency, Model::Rate] {
            let json: serde_json::Value =
                serde_json::from_slice(&Json.export(&sample::report(model)).unwrap()).unwrap();
            let errors = schema_check::validate(&schema, &schema, &json, "$");
            assert!(errors.is_empty(), "{model:?}: {errors:#?}");
        }
        let saturated: serde_json::Value = serde_json::from_slice(&Json.export(&sample::saturated()).unwrap()).unwrap();
        let errors = schema_check::validate(&schema, &schema, &saturated, "$");
        assert!(errors.is_empty(), "saturated: {errors:#?}");
        assert_eq!(saturated["aggregated"]["latency"]["censored"], 50);
        let p99 = &saturated["aggregated"]["latency"]["percentiles"][7];
        assert_eq!((&p99["percentile"], &p99["lower_bound"]), (&serde_json::json!(99.0), &serde_json::json!(true)));
        let mut broken: serde_json::Value =
            serde_json::from_slice(&Json.export(&sample::report(Model::Rate)).unwrap()).unwrap();
        broken["aggregated"]["failures"]["connect"] = serde_json::json!(-1);
        broken["timeline"][0].as_object_mut().unwrap().remove("p99_us");
        broken["surprise"] = serde_json::json!(true);
        assert_eq!(schema_check::validate(&schema, &schema, &broken, "$").len(), 3, "the check does catch errors");
    }

    #[test]
    fn round_trips_through_serde() {
        for report in [sample::report(Model::Concurrency), sample::report(Model::Rate), sample::saturated()] {
            let bytes = Json.export(&report).unwrap();
            let back: LoadReport = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(back, report);
        }
        let old: LoadReport = serde_json::from_slice(&Json.export(&sample::report(Model::Users)).unwrap()).unwrap();
        assert!(old.aggregated.latency.percentiles.iter().all(|p| !p.lower_bound), "absent reads as false");
    }

    /// The subset of JSON Schema the committed schema uses: type, enum, required, properties,
    /// additionalProperties: false, items, minimum and local $ref. Returns one message per violation.
    mod schema_check {
        use serde_json::Value;

        pub fn validate(root: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
            let mut errors = Vec::new();
            if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
                if !value.is_null() || !allows_type(schema, "null") {
                    let path = reference.trim_start_matches("#/").split('/');
                    let target = path.fold(root, |node, key| &node[key]);
                    errors.extend(validate(root, target, value, at));
                }
            }
            if let Some(types) = schema.get("type") {
                let names: Vec<&str> = match types {
                    Value::String(name) => vec![name.as_str()],
                    Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
                    _ => vec![],
                };
                if !names.iter().any(|name| has_type(value, name)) {
                    errors.push(format!("{at}: {value} is not of type {names:?}"));
                    return errors;
                }
            }
            if let Some(Value::Array(allowed)) = schema.get("enum") {
                if !allowed.contains(value) {
                    errors.push(format!("{at}: {value} not in {allowed:?}"));
                }
            }
            if let (Some(minimum), Some(number)) = (schema.get("minimum").and_then(Value::as_f64), value.as_f64()) {
                if number < minimum {
                    errors.push(format!("{at}: {number} < {minimum}"));
                }
            }
            if let Value::Object(object) = value {
                let properties = schema.get("properties").and_then(Value::as_object);
                for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
                    let key = required.as_str().unwrap_or_default();
                    if !object.contains_key(key) {
                        errors.push(format!("{at}: missing {key}"));
                    }
                }
                for (key, item) in object {
                    match properties.and_then(|properties| properties.get(key)) {
                        Some(property) => errors.extend(validate(root, property, item, &format!("{at}.{key}"))),
                        None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                            errors.push(format!("{at}: unexpected {key}"))
                        }
                        None => {}
                    }
                }
            }
            if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
                for (index, item) in items.iter().enumerate() {
                    errors.extend(validate(root, item_schema, item, &format!("{at}[{index}]")));
                }
            }
            errors
        }

        fn allows_type(schema: &Value, name: &str) -> bool {
            match schema.get("type") {
                Some(Value::String(single)) => single == name,
                Some(Value::Array(names)) => names.iter().any(|n| n == name),
                _ => false,
            }
        }

        fn has_type(value: &Value, name: &str) -> bool {
            match name {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                "null" => value.is_null(),
                _ => false,
            }
        }
    }
}
