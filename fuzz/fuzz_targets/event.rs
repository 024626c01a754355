//! `Event::from_slice` and `Event::from_slice_lenient` never panic; what
//! either accepts serializes and parses back to an equal event; what the
//! strict parse accepts, the lenient one reads the same; and error messages
//! never quote a string from the body.
#![no_main]

use foxreach_webhooks::Event;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let strict = Event::from_slice(body);
    let lenient = Event::from_slice_lenient(body);
    if let Ok(event) = &strict {
        assert_eq!(lenient.as_ref().ok(), Some(event), "the lenient parse reads what the strict one does");
    }
    match lenient {
        Ok(event) => {
            let written = serde_json::to_vec(&event).expect("an event serializes");
            let again = Event::from_slice_lenient(&written).expect("what was written parses");
            assert_eq!(again, event);
            let _ = (event.name(), event.event_type(), event.timestamp.instant(), event.degraded_fields());
        }
        Err(err) => {
            let _ = (err.path(), err.line(), err.column(), err.kind(), format!("{err:?}"));
            // A JSON string at the top level is the one place a value could be
            // quoted whole, as serde quotes one: in double quotes.
            if let Ok(serde_json::Value::String(text)) = serde_json::from_slice::<serde_json::Value>(body) {
                assert!(!err.to_string().contains(&format!("\"{text}\"")), "the message quotes the body");
            }
        }
    }
    if let Err(err) = strict {
        let _ = err.to_string();
    }
});
