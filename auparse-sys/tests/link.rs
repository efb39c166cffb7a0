//! Link smoke test: the bindings resolve against the real libauparse and a
//! feed-mode parser can be created, fed one record and destroyed.

use auparse_sys::*;
use std::os::raw::c_void;
use std::ptr;

unsafe extern "C" fn count(au: *mut auparse_state_t, ty: auparse_cb_event_t, data: *mut c_void) {
    if ty == AUPARSE_CB_EVENT_READY {
        // SAFETY: `data` is the &mut u32 registered below and outlives the parser.
        let n = unsafe { &mut *(data as *mut u32) };
        *n += 1;
        // SAFETY: `au` is the live parser that called us; the event is current.
        assert_eq!(unsafe { auparse_get_serial(au) }, 42);
    }
}

#[test]
fn feed_one_record() {
    let mut events = 0u32;
    // SAFETY: plain FFI calls on a parser created and destroyed here; the
    // callback's user data outlives the parser.
    unsafe {
        let au = auparse_init(AUSOURCE_FEED, ptr::null());
        assert!(!au.is_null());
        auparse_add_callback(
            au,
            Some(count),
            &mut events as *mut u32 as *mut c_void,
            None,
        );
        let line = b"type=DAEMON_START msg=audit(1.000:42): op=start ver=3.0.9 res=success\n";
        assert_eq!(auparse_feed(au, line.as_ptr().cast(), line.len()), 0);
        assert_eq!(auparse_flush_feed(au), 0);
        auparse_destroy(au);
    }
    assert_eq!(events, 1);
}

#[test]
fn version_is_published() {
    let mut parts = LIBAUPARSE_VERSION.split('.');
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).expect("major");
    assert!(major >= 3, "{LIBAUPARSE_VERSION}");
}

/// libaudit's record type numbers, against the kernel's own header where it
/// is installed (linux-libc-dev) and against fixed kernel ABI values.
#[test]
fn audit_name_to_msg_type_answers_as_the_kernel_header() {
    let header = std::fs::read_to_string("/usr/include/linux/audit.h").unwrap_or_default();
    let from_header = |name: &str| -> Option<i32> {
        header.lines().find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("#define") && w.next() == Some(&format!("AUDIT_{name}")[..]))
                .then(|| w.next()?.parse().ok())
                .flatten()
        })
    };
    let mut checked = 0;
    for name in ["SYSCALL", "PATH", "CWD", "EOE", "PROCTITLE", "ANOM_ABEND"] {
        let c = std::ffi::CString::new(name).unwrap();
        let got = audit_name_to_msg_type(&c).expect("libaudit is loaded with libauparse");
        if let Some(want) = from_header(name) {
            assert_eq!(got, want, "{name}");
            checked += 1;
        }
    }
    eprintln!("{checked} names checked against /usr/include/linux/audit.h");
    // Kernel ABI numbers (stable): SYSCALL 1300, EOE 1320.
    assert_eq!(audit_name_to_msg_type(c"SYSCALL"), Some(1300));
    assert_eq!(audit_name_to_msg_type(c"EOE"), Some(1320));
    assert_eq!(audit_name_to_msg_type(c"UNKNOWN[1999]"), Some(1999));
    assert_eq!(audit_name_to_msg_type(c"NO_SUCH_TYPE"), Some(-1));
}

/// libaudit's record type names, against the kernel's own header where it is
/// installed and against fixed kernel ABI values; both directions agree.
#[test]
fn audit_msg_type_to_name_answers_as_the_kernel_header() {
    let header = std::fs::read_to_string("/usr/include/linux/audit.h").unwrap_or_default();
    let mut checked = 0;
    for l in header.lines() {
        let mut w = l.split_whitespace();
        let (Some("#define"), Some(name), Some(value)) = (w.next(), w.next(), w.next()) else {
            continue;
        };
        let (Some(name), Ok(value)) = (name.strip_prefix("AUDIT_"), value.parse::<i32>()) else {
            continue;
        };
        // Record types only, and only those libaudit spells as the header
        // does (a few have other names in libaudit, e.g. AUDIT_FIRST_*).
        if !(1000..3000).contains(&value) {
            continue;
        }
        if let Some(got) = audit_msg_type_to_name(value) {
            let got = got.to_str().unwrap();
            if got == name {
                checked += 1;
            }
            // Whatever the name, it maps back to the number.
            let c = std::ffi::CString::new(got).unwrap();
            assert_eq!(audit_name_to_msg_type(&c), Some(value), "{got}");
        }
    }
    eprintln!("{checked} names checked against /usr/include/linux/audit.h");
    assert!(header.is_empty() || checked > 50, "{checked}");
    // Kernel ABI numbers (stable).
    assert_eq!(audit_msg_type_to_name(1300), Some(c"SYSCALL"));
    assert_eq!(audit_msg_type_to_name(1320), Some(c"EOE"));
    assert_eq!(audit_msg_type_to_name(1327), Some(c"PROCTITLE"));
    assert_eq!(audit_msg_type_to_name(1999), None);
    assert_eq!(audit_msg_type_to_name(-1), None);
}
