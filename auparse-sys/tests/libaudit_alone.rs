//! A program that calls only the libaudit functions of these bindings, and
//! no libauparse function, still finds them: libauparse (and with it
//! libaudit) stays a needed library of the binary. A test binary of its own,
//! so that no other call links libauparse in.

use auparse_sys::{audit_msg_type_to_name, audit_name_to_msg_type};

#[test]
fn libaudit_functions_alone() {
    assert_eq!(audit_msg_type_to_name(1302), Some(c"PATH"));
    assert_eq!(audit_name_to_msg_type(c"PATH"), Some(1302));
}
