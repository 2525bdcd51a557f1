//! One typed-handle mechanism for every pointer the C side holds (after rustls-ffi's
//! `Castable`): each C handle type is an opaque marker struct that says what it
//! really points at (`RustType`) and how it is owned (`Ownership`):
//!
//! - [`OwnedBox`]: the caller owns one `Box<RustType>` (`to_box`, freed by `free`);
//! - [`OwnedArc`]: the caller owns one reference of an `Arc<RustType>` (`to_arc`;
//!   `try_arc` takes another reference for a config or request; `free` drops the
//!   caller's);
//! - [`Borrowed`]: a pointer the library lends during a callback (`to_c_mut`); never
//!   freed by the caller.
//!
//! A handle whose value may be a view of something owned elsewhere (a hook's
//! request, a response's history entry) holds a [`View`] and says so in
//! [`Castable::releasable`]: `free` then leaves it alone, as the `_free` functions
//! document. Every pointer is checked for NULL here (`InvalidArgument` naming it).

use std::sync::Arc;

use crate::error::{Error, Result};

/// The caller owns a `Box` of the handle's value.
pub(crate) struct OwnedBox;
/// The caller owns one reference of an `Arc` of the handle's value.
pub(crate) struct OwnedArc;
/// Lent by the library for the duration of a callback; not the caller's to free.
pub(crate) struct Borrowed;

/// How a handle's pointer is given up by `free`.
pub(crate) trait Ownership {
    /// # Safety
    /// `p` came from this ownership's constructor and is released once.
    unsafe fn release<T>(p: *mut T);
}

impl Ownership for OwnedBox {
    unsafe fn release<T>(p: *mut T) {
        // SAFETY: `p` came from `Box::into_raw` in `to_box`; the caller frees it once.
        drop(unsafe { Box::from_raw(p) });
    }
}

impl Ownership for OwnedArc {
    unsafe fn release<T>(p: *mut T) {
        // SAFETY: `p` came from `Arc::into_raw` in `to_arc`; this drops the caller's
        // one reference.
        drop(unsafe { Arc::from_raw(p as *const T) });
    }
}

/// Ownerships that give `&mut` access (one owner at a time, or a callback's loan).
pub(crate) trait Exclusive {}
impl Exclusive for OwnedBox {}
impl Exclusive for Borrowed {}

/// A C handle type: an opaque struct whose pointer really points at `RustType`.
pub(crate) trait Castable {
    type Ownership;
    type RustType;

    /// False for a value the caller must not free (a view into another handle or a
    /// callback's argument): `free` leaves it alone.
    fn releasable(_value: &Self::RustType) -> bool {
        true
    }
}

/// Give a new value to the caller as an owned handle.
pub(crate) fn to_box<C: Castable<Ownership = OwnedBox>>(value: C::RustType) -> *mut C {
    Box::into_raw(Box::new(value)) as *mut C
}

/// Give one reference of a shared value to the caller.
pub(crate) fn to_arc<C: Castable<Ownership = OwnedArc>>(value: Arc<C::RustType>) -> *const C {
    Arc::into_raw(value) as *const C
}

/// Lend a value to C for the duration of a call.
pub(crate) fn to_c_mut<C: Castable>(value: &mut C::RustType) -> *mut C {
    value as *mut C::RustType as *mut C
}

/// Lend a value to C read-only for the duration of a call.
pub(crate) fn to_c<C: Castable>(value: &C::RustType) -> *const C {
    value as *const C::RustType as *const C
}

/// Borrow a handle's value; NULL is `InvalidArgument` naming `what`.
///
/// # Safety
/// `p` is NULL or a live handle of type `C`, not mutably borrowed elsewhere.
pub(crate) unsafe fn try_ref<'a, C: Castable>(p: *const C, what: &str) -> Result<&'a C::RustType> {
    // SAFETY: the caller passes NULL or a live handle made by this module.
    unsafe { opt_ref(p) }.ok_or_else(|| null(what))
}

/// Like `try_ref`, NULL being `None`.
///
/// # Safety
/// As for `try_ref`.
pub(crate) unsafe fn opt_ref<'a, C: Castable>(p: *const C) -> Option<&'a C::RustType> {
    // SAFETY: the caller passes NULL or a live handle made by this module.
    unsafe { (p as *const C::RustType).as_ref() }
}

/// Borrow a handle's value mutably; NULL is `InvalidArgument` naming `what`.
///
/// # Safety
/// `p` is NULL or a live handle of type `C` that the caller has exclusive use of
/// (the documented one-owner-at-a-time rule).
pub(crate) unsafe fn try_mut<'a, C>(p: *mut C, what: &str) -> Result<&'a mut C::RustType>
where
    C: Castable,
    C::Ownership: Exclusive,
{
    // SAFETY: the caller passes NULL or a live handle it has exclusive use of.
    unsafe { (p as *mut C::RustType).as_mut() }.ok_or_else(|| null(what))
}

/// Another reference to a shared handle's value (for a config or request that
/// keeps it); NULL is `None`.
///
/// # Safety
/// `p` is NULL or a live handle from `to_arc`.
pub(crate) unsafe fn opt_arc<C: Castable<Ownership = OwnedArc>>(p: *const C) -> Option<Arc<C::RustType>> {
    if p.is_null() {
        return None;
    }
    let p = p as *const C::RustType;
    // SAFETY: `p` came from `Arc::into_raw` and the caller still holds its reference,
    // so the count is at least one while we add ours.
    unsafe {
        Arc::increment_strong_count(p);
        Some(Arc::from_raw(p))
    }
}

/// Free a handle (the `_free` functions): NULL is allowed, views are left alone,
/// and a panic in a destructor stays on this side.
///
/// # Safety
/// `p` is NULL or a live handle of type `C`, freed once, used by no other thread.
pub(crate) unsafe fn free<C>(p: *mut C)
where
    C: Castable,
    C::Ownership: Ownership,
{
    if p.is_null() {
        return;
    }
    super::run_val((), || {
        // SAFETY: non-NULL, live (the caller's promise).
        if C::releasable(unsafe { &*(p as *const C::RustType) }) {
            // SAFETY: made by this ownership's constructor; freed once.
            unsafe { C::Ownership::release(p as *mut C::RustType) };
        }
    })
}

fn null(what: &str) -> Error {
    Error::InvalidArgument(format!("{what} is NULL"))
}

/// A handle's value that is either its own or a view of one owned elsewhere, valid
/// while that owner is (a callback's argument, a response's request or history).
pub(crate) enum View<T> {
    Owned(Box<T>),
    Borrowed(*mut T),
    ReadOnly(*const T),
}

impl<T> View<T> {
    pub(crate) fn get(&self) -> &T {
        match self {
            View::Owned(b) => b,
            // SAFETY: views are made only for the life of their target (a callback's
            // duration, or the life of the owning response).
            View::Borrowed(p) => unsafe { &**p },
            // SAFETY: as above.
            View::ReadOnly(p) => unsafe { &**p },
        }
    }

    /// The value for editing; a read-only view is `InvalidArgument`.
    pub(crate) fn get_mut(&mut self, what: &str) -> Result<&mut T> {
        match self {
            View::Owned(b) => Ok(b),
            // SAFETY: as in `get`; the callback has exclusive use during the call.
            View::Borrowed(p) => Ok(unsafe { &mut **p }),
            View::ReadOnly(_) => Err(Error::InvalidArgument(format!("this {what} is read-only"))),
        }
    }

    pub(crate) fn is_owned(&self) -> bool {
        matches!(self, View::Owned(_))
    }

    pub(crate) fn is_read_only(&self) -> bool {
        matches!(self, View::ReadOnly(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub struct httpx_shared {
        _private: [u8; 0],
    }
    impl Castable for httpx_shared {
        type Ownership = OwnedArc;
        type RustType = String;
    }

    pub struct httpx_owned {
        _private: [u8; 0],
    }
    impl Castable for httpx_owned {
        type Ownership = OwnedBox;
        type RustType = View<String>;
        fn releasable(v: &View<String>) -> bool {
            v.is_owned()
        }
    }

    #[test]
    fn shared_handles_count_references() {
        let p = to_arc::<httpx_shared>(Arc::new("x".to_string()));
        // SAFETY: `p` is live until the `free` below.
        let kept = unsafe { opt_arc(p) }.unwrap();
        assert_eq!(Arc::strong_count(&kept), 2);
        // SAFETY: the caller's one reference, freed once.
        unsafe { free(p as *mut httpx_shared) };
        assert_eq!(Arc::strong_count(&kept), 1, "free drops the caller's reference only");
        // SAFETY: NULL is allowed.
        assert!(unsafe { opt_arc::<httpx_shared>(std::ptr::null()) }.is_none());
    }

    #[test]
    fn null_views_and_read_only() {
        // SAFETY: NULL is allowed.
        let e = unsafe { try_ref::<httpx_owned>(std::ptr::null(), "thing") }.err().unwrap();
        assert_eq!(e.to_string(), "invalid argument: thing is NULL");
        let target = "t".to_string();
        let mut ro = View::ReadOnly(&target as *const String);
        assert_eq!(ro.get(), "t");
        assert_eq!(ro.get_mut("thing").unwrap_err().to_string(), "invalid argument: this thing is read-only");
        // A view is left alone by `free`; an owned value is dropped.
        let view = to_box::<httpx_owned>(View::ReadOnly(&target as *const String));
        // SAFETY: `view` is live; `free` leaves it alone, so it is freed by hand below.
        unsafe { free(view) };
        // SAFETY: made by `to_box`, not freed by `free` (a view).
        drop(unsafe { Box::from_raw(view as *mut View<String>) });
        let owned = to_box::<httpx_owned>(View::Owned(Box::new("o".to_string())));
        // SAFETY: live, freed once.
        unsafe { free(owned) };
    }
}
