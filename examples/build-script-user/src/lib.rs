//! The Update CVM client of spec/, written by build.rs into OUT_DIR and included here.

include!(concat!(env!("OUT_DIR"), "/openapi.rs"));
