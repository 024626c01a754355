//! `Event::from_slice` never panics, and what it accepts serializes and
//! parses back to an equal event.
#![no_main]

use foxreach_webhooks::Event;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(event) = Event::from_slice(body) {
        let written = serde_json::to_vec(&event).expect("an event serializes");
        let again = Event::from_slice(&written).expect("what was written parses");
        assert_eq!(again, event);
        let _ = (event.name(), event.event_type(), event.timestamp.instant());
    } else if let Err(err) = Event::from_slice(body) {
        let _ = (err.to_string(), err.path(), err.line(), err.column(), err.kind());
    }
});
