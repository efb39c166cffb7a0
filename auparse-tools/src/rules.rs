//! The directories the kernel's loaded audit rules watch (`-w DIR`), asked
//! over the audit netlink socket as `auditctl -l` does (`AUDIT_LIST_RULES`;
//! root or CAP_AUDIT_CONTROL). The plugin walks them to find entries made
//! before it started, when no `--path` is given.

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// `linux/netlink.h` and `linux/audit.h` (stable kernel ABI).
const NETLINK_AUDIT: libc::c_int = 9;
const AUDIT_LIST_RULES: u16 = 1013;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLMSG_HDRLEN: usize = 16;
/// `struct audit_rule_data`: flags, action, field_count, then four arrays
/// of 64 u32 (mask, fields, values, fieldflags), buflen, buf.
const FIELDS_AT: usize = 12 + 4 * 64;
const VALUES_AT: usize = FIELDS_AT + 4 * 64;
const BUFLEN_AT: usize = VALUES_AT + 2 * 4 * 64;
const BUF_AT: usize = BUFLEN_AT + 4;
const AUDIT_WATCH: u32 = 105;
const AUDIT_DIR: u32 = 107;
const AUDIT_EXE: u32 = 112;
const AUDIT_FILTERKEY: u32 = 210;
/// Several keys of one rule are joined with this byte.
const KEY_SEPARATOR: u8 = 0x01;

/// Fields whose value is a string in `buf` (its length in `values`).
fn is_string_field(f: u32) -> bool {
    matches!(f, 13..=17 | 19..=23 | AUDIT_WATCH | AUDIT_DIR | AUDIT_EXE | AUDIT_FILTERKEY)
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// One rule's watched path (`-w`) and keys, from a `struct audit_rule_data`.
fn rule_watch(data: &[u8]) -> Option<(Vec<u8>, Vec<Vec<u8>>)> {
    let count = (u32_at(data, 8)? as usize).min(64);
    let buflen = u32_at(data, BUFLEN_AT)? as usize;
    let buf = data.get(BUF_AT..BUF_AT + buflen)?;
    let mut off = 0;
    let mut watch = None;
    let mut keys = Vec::new();
    for i in 0..count {
        let field = u32_at(data, FIELDS_AT + 4 * i)?;
        if !is_string_field(field) {
            continue;
        }
        let len = u32_at(data, VALUES_AT + 4 * i)? as usize;
        let s = buf.get(off..off + len)?;
        off += len;
        match field {
            AUDIT_WATCH | AUDIT_DIR => watch = Some(s.to_vec()),
            AUDIT_FILTERKEY => keys.extend(s.split(|&b| b == KEY_SEPARATOR).map(<[u8]>::to_vec)),
            _ => {}
        }
    }
    Some((watch?, keys))
}

/// The paths of the loaded `-w` rules whose key is one of `keys` (any
/// rule when `keys` is empty), as the kernel lists them now.
///
/// # Errors
/// The netlink socket cannot be opened or asked (not root, no audit
/// support), or it answers with an error.
pub fn watched_paths(keys: &[String]) -> io::Result<Vec<PathBuf>> {
    // SAFETY: plain socket(2) call; the result is checked.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            NETLINK_AUDIT,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened by us and is owned by nothing else.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let raw = std::os::fd::AsRawFd::as_raw_fd(&sock);
    let timeout = libc::timeval {
        tv_sec: 2,
        tv_usec: 0,
    };
    // SAFETY: `timeout` is a valid timeval that outlives the call, and the
    // length given is its size.
    let rc = unsafe {
        libc::setsockopt(
            raw,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            std::ptr::from_ref(&timeout).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // A request without payload: nlmsghdr { len, type, flags, seq, pid }.
    let mut req = [0u8; NLMSG_HDRLEN];
    req[0..4].copy_from_slice(&(NLMSG_HDRLEN as u32).to_ne_bytes());
    req[4..6].copy_from_slice(&AUDIT_LIST_RULES.to_ne_bytes());
    req[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes());
    // SAFETY: an all-zero sockaddr_nl is valid; the family is set below.
    let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: `req` and `kernel` are valid for the lengths given and
    // outlive the call.
    let sent = unsafe {
        libc::sendto(
            raw,
            req.as_ptr().cast(),
            req.len(),
            0,
            std::ptr::from_ref(&kernel).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: `buf` is valid and writable for its whole length.
        let n = unsafe { libc::recv(raw, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut msg = &buf[..n as usize];
        while msg.len() >= NLMSG_HDRLEN {
            let len = u32_at(msg, 0).unwrap_or(0) as usize;
            let ty = u16::from_ne_bytes([msg[4], msg[5]]);
            if len < NLMSG_HDRLEN || len > msg.len() {
                break;
            }
            let payload = &msg[NLMSG_HDRLEN..len];
            match ty {
                NLMSG_DONE => return Ok(out),
                NLMSG_ERROR => {
                    let errno = u32_at(payload, 0).unwrap_or(0) as i32;
                    if errno != 0 {
                        return Err(io::Error::from_raw_os_error(-errno));
                    }
                }
                AUDIT_LIST_RULES => {
                    if let Some((path, rule_keys)) = rule_watch(payload) {
                        let wanted = keys.is_empty()
                            || rule_keys
                                .iter()
                                .any(|k| keys.iter().any(|w| w.as_bytes() == &k[..]));
                        if wanted {
                            out.push(PathBuf::from(std::ffi::OsStr::from_bytes(&path)));
                        }
                    }
                }
                _ => {}
            }
            // Messages are aligned to 4 bytes.
            let next = (len + 3) & !3;
            msg = msg.get(next..).unwrap_or_default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `struct audit_rule_data` as the kernel sends it for
    /// `-w /srv/data -p wa -k fsaction` (fields: dir, perm, key).
    fn rule(dir: &str, key: &[u8]) -> Vec<u8> {
        let mut d = vec![0u8; BUF_AT];
        let fields = [
            (AUDIT_DIR, dir.len() as u32),
            (106, 6),
            (AUDIT_FILTERKEY, key.len() as u32),
        ];
        d[8..12].copy_from_slice(&(fields.len() as u32).to_ne_bytes());
        for (i, (f, v)) in fields.iter().enumerate() {
            d[FIELDS_AT + 4 * i..FIELDS_AT + 4 * i + 4].copy_from_slice(&f.to_ne_bytes());
            d[VALUES_AT + 4 * i..VALUES_AT + 4 * i + 4].copy_from_slice(&v.to_ne_bytes());
        }
        let strings = [dir.as_bytes(), key].concat();
        d[BUFLEN_AT..BUF_AT].copy_from_slice(&(strings.len() as u32).to_ne_bytes());
        d.extend_from_slice(&strings);
        d
    }

    #[test]
    fn reads_the_watched_directory_and_its_keys() {
        let (w, keys) = rule_watch(&rule("/srv/data", b"fsaction\x01other")).unwrap();
        assert_eq!(w, b"/srv/data");
        assert_eq!(keys, [b"fsaction".to_vec(), b"other".to_vec()]);
        // A cut message is no rule, not a panic.
        let whole = rule("/srv/data", b"k");
        for cut in 0..whole.len() {
            let _ = rule_watch(&whole[..cut]);
        }
    }
}
