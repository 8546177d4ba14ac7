use std::time::{Duration, UNIX_EPOCH};

use super::*;

const NOW: u64 = 1_800_000_000;

fn asked_for() -> Vec<Requested> {
    vec![
        Requested::tier("Basic").unwrap(),
        Requested::tier("Premium").unwrap(),
        Requested::counted("Seats", "Count", "2").unwrap(),
    ]
}

fn good() -> RawAnswer {
    RawAnswer {
        checkout_type: Some("PROVISIONAL".into()),
        consumption_token: Some("ct-1".into()),
        entitlements: vec![
            ("Premium".into(), "None".into(), None),
            ("Seats".into(), "Count".into(), Some("2".into())),
        ],
        signed_token: Some("a.b.c".into()),
        node_id: Some("node-1".into()),
        issued_at: Some("2027-01-15T08:00:00Z".into()),
        expiration: Some("2027-01-15T09:00:00Z".into()),
        license_arn: Some("arn:aws:license-manager::123456789012:license:l-1".into()),
    }
}

fn check(answer: RawAnswer) -> Result<Accepted, AnswerError> {
    let requested = asked_for();
    let asked = Asked {
        entitlements: &requested,
        checkout_type: CheckoutType::Provisional,
        node_id: "node-1",
        issuer_key: None,
    };
    accept(answer, &asked, UNIX_EPOCH + Duration::from_secs(NOW))
}

#[test]
fn a_consistent_answer_is_accepted_with_what_it_allows() {
    let accepted = check(good()).unwrap();
    let shown: Vec<String> = accepted
        .entitlements
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(shown, ["Premium", "Seats:Count:2"]);
    assert!(!accepted.token_verified, "no key, so not verified");
    assert_eq!(accepted.consumption_token, "ct-1");
    let fewer = RawAnswer {
        entitlements: vec![("Seats".into(), "Count".into(), Some("1".into()))],
        ..good()
    };
    assert!(
        check(fewer).is_ok(),
        "fewer units than asked is within the request"
    );
}

/// One row per way an answer can disagree with its request; each is 65.
#[test]
fn every_inconsistent_answer_is_malformed_never_a_pass() {
    type Row = (&'static str, fn(&mut RawAnswer), fn(&AnswerError) -> bool);
    let rows: &[Row] = &[
        (
            "no ARN",
            |a| a.license_arn = None,
            |e| matches!(e, AnswerError::Missing(_)),
        ),
        (
            "not an ARN",
            |a| a.license_arn = Some("l-1".into()),
            |e| matches!(e, AnswerError::Missing(_)),
        ),
        (
            "no consumption token",
            |a| a.consumption_token = Some(String::new()),
            |e| matches!(e, AnswerError::Missing(_)),
        ),
        (
            "other checkout type",
            |a| a.checkout_type = Some("PERPETUAL".into()),
            |e| matches!(e, AnswerError::CheckoutType { .. }),
        ),
        (
            "no checkout type",
            |a| a.checkout_type = None,
            |e| matches!(e, AnswerError::Missing(_)),
        ),
        (
            "nothing allowed",
            |a| a.entitlements.clear(),
            |e| matches!(e, AnswerError::Missing(_)),
        ),
        (
            "not asked",
            |a| a.entitlements.push(("Gold".into(), "None".into(), None)),
            |e| matches!(e, AnswerError::NotAsked(_)),
        ),
        (
            "twice",
            |a| a.entitlements.push(("Premium".into(), "None".into(), None)),
            |e| matches!(e, AnswerError::Duplicate(_)),
        ),
        (
            "other unit",
            |a| a.entitlements[1].1 = "Bytes".into(),
            |e| matches!(e, AnswerError::Unit { .. }),
        ),
        (
            "tier as counted",
            |a| a.entitlements[0].1 = "Count".into(),
            |e| matches!(e, AnswerError::Unit { .. }),
        ),
        (
            "more units",
            |a| a.entitlements[1].2 = Some("3".into()),
            |e| matches!(e, AnswerError::Value { .. }),
        ),
        (
            "zero units",
            |a| a.entitlements[1].2 = Some("0".into()),
            |e| matches!(e, AnswerError::Value { .. }),
        ),
        (
            "no units",
            |a| a.entitlements[1].2 = None,
            |e| matches!(e, AnswerError::Value { .. }),
        ),
        (
            "units not a number",
            |a| a.entitlements[1].2 = Some("two".into()),
            |e| matches!(e, AnswerError::Value { .. }),
        ),
        (
            "expired",
            |a| a.expiration = Some("2020-01-01T00:00:00Z".into()),
            |e| matches!(e, AnswerError::Expired(_)),
        ),
        (
            "expiring now",
            |a| a.expiration = Some(NOW.to_string()),
            |e| matches!(e, AnswerError::Expired(_)),
        ),
        (
            "no expiration",
            |a| a.expiration = None,
            |e| matches!(e, AnswerError::Missing(_)),
        ),
        (
            "garbled expiration",
            |a| a.expiration = Some("soon".into()),
            |e| matches!(e, AnswerError::Timestamp { .. }),
        ),
        (
            "garbled issue time",
            |a| a.issued_at = Some("x".into()),
            |e| matches!(e, AnswerError::Timestamp { .. }),
        ),
        (
            "other node id",
            |a| a.node_id = Some("node-2".into()),
            |e| matches!(e, AnswerError::NodeId { .. }),
        ),
        (
            "node id not echoed",
            |a| a.node_id = None,
            |e| matches!(e, AnswerError::NodeId { .. }),
        ),
        (
            "no signed token",
            |a| a.signed_token = None,
            |e| matches!(e, AnswerError::Missing(_)),
        ),
    ];
    for (what, spoil, expected) in rows {
        let mut answer = good();
        spoil(&mut answer);
        let err = check(answer).unwrap_err();
        assert!(expected(&err), "{what}: {err}");
        let code = crate::CheckError::from(err).exit_code();
        assert_eq!(code, 65, "{what}");
    }
}
