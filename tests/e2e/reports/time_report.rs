//! `timeReport`: every grouping against the sums computed here, who may report on whose
//! hours, and its bounds on range and rows.

use super::*;

#[tokio::test]
async fn time_report_sums_every_grouping_for_owners_and_admins() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let all: Vec<&Log> = w.logs.iter().collect();
    let groupings: [&[&str]; 9] = [
        &["USER"],
        &["CLIENT"],
        &["PROJECT"],
        &["TASK"],
        &["DAY"],
        &["WEEK"],
        &["PROJECT", "DAY"],
        &["WEEK", "USER", "CLIENT"],
        &[],
    ];
    for groups in groupings {
        let body = report(&app, &w.ann, w.acme, groups, json!({})).await;
        let want = expected(&all, groups);
        assert_eq!(rows(&body, groups), want, "grouped by {groups:?}: {body}");
    }
    // The seeded spread is what the test claims: two ISO weeks, a Sunday in the first.
    let weeks = expected(&all, &["WEEK"]);
    let week_starts: Vec<&str> = weeks.iter().map(|(key, _)| key[0].as_str()).collect();
    assert_eq!(week_starts, ["2025-01-06", "2025-01-13"]);
    assert_eq!(
        weeks[0].1,
        3 + 2 + 4 + 5,
        "Sunday belongs to the week before"
    );
    assert_eq!(expected(&all, &["DAY"]).len(), 5);
    assert_eq!(expected(&all, &[])[0].1, 36);

    // The objects a row names load in one batch per type, however many rows.
    let named = app
        .graphql_as(
            Some(&w.ann.token),
            "query R($ws: ID!, $from: DateTime, $to: DateTime) {
                timeReport(workspaceId: $ws, groupBy: [USER, CLIENT, PROJECT, TASK, DAY], from: $from, to: $to) {
                user { name } client { name } project { name } task { name } hours } }",
            json!({
                "ws": w.acme.to_string(),
                "from": seeded_range()["from"],
                "to": seeded_range()["to"],
            }),
        )
        .await;
    let listed = named.data()["timeReport"].as_array().expect("rows").len();
    assert_eq!(listed, 8, "every log has its own row here");
    let statements = named.body["extensions"]["sqlStatements"]
        .as_u64()
        .expect("debug builds report sqlStatements");
    println!("timeReport statements with four kinds of named objects: {statements}");
    assert!(statements <= 8, "{statements} statements");

    // An ADMIN sees the same as the OWNER.
    let body = report(&app, &w.cid, w.acme, &["USER"], json!({})).await;
    assert_eq!(rows(&body, &["USER"]), expected(&all, &["USER"]));

    // Half-open ranges: from Monday 00:00 up to, not including, the log at NEXT_WED.
    let from = Utc
        .with_ymd_and_hms(2025, 1, 13, 0, 0, 0)
        .single()
        .expect("instant");
    let to = base() + Duration::minutes(NEXT_WED);
    let range = json!({ "from": from.to_rfc3339(), "to": to.to_rfc3339() });
    let body = report(&app, &w.ann, w.acme, &["WEEK"], range).await;
    assert_eq!(
        rows(&body, &["WEEK"]),
        [(vec!["2025-01-13".to_owned()], 7 + 8)]
    );
    let empty = json!({ "from": to.to_rfc3339(), "to": to.to_rfc3339() });
    let body = report(&app, &w.ann, w.acme, &[], empty.clone()).await;
    assert_eq!(
        rows(&body, &[]),
        [(Vec::new(), 0)],
        "a total even of nothing"
    );
    let body = report(&app, &w.ann, w.acme, &["DAY"], empty).await;
    assert_eq!(rows(&body, &["DAY"]), []);
}

#[tokio::test]
async fn a_workspace_user_reports_only_their_own_hours_and_others_are_refused() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let bob = user_id(&w.bob);
    // Bob's own logs on the projects he may read: not Ann's, nor his 7 h on the project
    // he left (the same rule as his membership's `totalHours`).
    let own: Vec<&Log> = w
        .logs
        .iter()
        .filter(|log| log.user == bob && w.projects[..2].contains(&log.project))
        .collect();
    assert_eq!(own.iter().map(|log| log.hours).sum::<i64>(), 3 + 4 + 1);
    for groups in [
        &["USER"][..],
        &["PROJECT", "DAY"],
        &["TASK"],
        &["WEEK"],
        &[],
    ] {
        let body = report(&app, &w.bob, w.acme, groups, json!({})).await;
        assert_eq!(rows(&body, groups), expected(&own, groups), "{groups:?}");
    }

    let twice = report(&app, &w.ann, w.acme, &["DAY", "USER", "DAY"], json!({})).await;
    assert_eq!(twice["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(twice["errors"][0]["extensions"]["field"], "groupBy");
    let outsider = report(&app, &w.dan, w.acme, &[], json!({})).await;
    assert_eq!(outsider["errors"][0]["extensions"]["code"], "NOT_FOUND");
    let anonymous = app
        .graphql(REPORT, json!({ "ws": w.acme.to_string(), "groupBy": [] }))
        .await;
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_time_report_spans_at_most_366_days_and_has_at_most_10000_rows() {
    let app = TestApp::spawn().await;
    let ann = app.sign_up("ann@example.io").await;
    let ann_id = user_id(&ann);
    let seed = Seed::new(&app.db);
    let (acme, globex) = seed.workspace(&[(ann_id, Role::Owner)]).await;
    let projects = seed.projects(&acme, globex.id, &[None]).await;
    let mut tasks = Vec::new();
    for _ in 0..11 {
        tasks.extend(seed.tasks(&projects, 1000).await);
    }
    // An hour's log on each of 11,000 tasks, an hour ago.
    let logs: Vec<(Uuid, Uuid, i32, i64)> = tasks
        .iter()
        .map(|(_, task)| (*task, ann_id, 1, -60))
        .collect();
    seed.logs(&logs).await;
    let now = Utc::now();
    let error_of = |body: &Value| {
        let error = &body["errors"][0];
        (
            error["extensions"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            error["extensions"]["field"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    };

    let year = json!({
        "from": (now - Duration::days(366)).to_rfc3339(),
        "to": now.to_rfc3339(),
    });
    let total = report(&app, &ann, acme.id, &[], year).await;
    assert_eq!(total["data"]["timeReport"][0]["hours"], 11_000, "{total}");
    let longer = json!({
        "from": (now - Duration::days(367)).to_rfc3339(),
        "to": now.to_rfc3339(),
    });
    let refused = report(&app, &ann, acme.id, &[], longer).await;
    assert_eq!(
        error_of(&refused),
        ("BAD_USER_INPUT".into(), "from".into()),
        "{refused}"
    );

    // Without `from` the report starts 366 days before `to`, and without `to` it ends now.
    let defaults = app
        .graphql_as(
            Some(&ann.token),
            "query R($ws: ID!) { timeReport(workspaceId: $ws, groupBy: []) { hours } }",
            json!({ "ws": acme.id.to_string() }),
        )
        .await;
    assert_eq!(defaults.data()["timeReport"][0]["hours"], 11_000);

    let per_task = report(
        &app,
        &ann,
        acme.id,
        &["TASK"],
        json!({ "from": (now - Duration::days(1)).to_rfc3339(), "to": now.to_rfc3339() }),
    )
    .await;
    assert_eq!(
        error_of(&per_task),
        ("BAD_USER_INPUT".into(), "groupBy".into()),
        "{per_task}"
    );
}
