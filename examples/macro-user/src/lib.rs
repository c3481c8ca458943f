//! The Update CVM client of spec/, expanded here by `generate_api!` (the path is relative to this
//! crate's manifest).

openapi_rs_macros::generate_api!("../../spec/phala-cloud.yaml");
