//! Files on users (licences, certifications, pictures): declared through the API, uploaded
//! straight to the file store through the URL it answers (moto's S3 with DynamoDB, the local
//! server's own file routes with SQLite), then read back through a short-lived download URL.

use chrono::Duration;
use guardpost_tests::{Backend, TestApp, on_both_stores};
use serde_json::{Value, json};

on_both_stores!(
    a_licence_is_uploaded_through_its_url_and_read_back,
    uploads_are_held_to_what_was_declared,
    only_the_user_and_managers_in_scope_handle_a_users_files,
);

const PASSWORD: &str = "correct-horse-battery-7";

/// Sends `bytes` as the ticket says, answering the status.
async fn upload(ticket: &Value, bytes: Vec<u8>, content_type: Option<&str>) -> u16 {
    let client = reqwest::Client::new();
    let mut request = client.put(ticket["url"].as_str().unwrap()).body(bytes);
    // The client sets the length from what it sends, as a browser does.
    for pair in ticket["headers"].as_array().unwrap().iter().filter(|p| p[0] != "content-length") {
        let (name, value) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        let value = if name.eq_ignore_ascii_case("content-type") { content_type.unwrap_or(value) } else { value };
        request = request.header(name, value);
    }
    request.send().await.unwrap().status().as_u16()
}

fn licence(size: usize, expires_on: chrono::NaiveDate) -> Value {
    json!({"kind": "licence", "name": "security-licence.pdf", "content_type": "application/pdf", "size": size,
        "expires_on": expires_on})
}

async fn a_licence_is_uploaded_through_its_url_and_read_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let guard = app.create_employee(&admin, "G-1", "gwen", PASSWORD).await;
    let bytes: Vec<u8> = b"%PDF-1.7\n".iter().copied().chain((0..4000u32).map(|i| (i % 251) as u8)).collect();
    let yesterday = app.now().date_naive() - Duration::days(1);

    let created = app.post(&format!("/v1/users/{guard}/files"), &admin, licence(bytes.len(), yesterday)).await;
    let created = created.expect(201).body;
    assert_eq!(created["file"]["status"], "pending");
    assert_eq!(created["upload"]["method"], "PUT");
    let file = created["file"]["id"].as_str().unwrap().to_owned();
    let read = format!("/v1/users/{guard}/files/{file}");
    assert_eq!(app.get(&read, &admin).await.expect(409).problem_type(), "upload-pending");

    assert!(upload(&created["upload"], bytes.clone(), None).await < 300);
    let got = app.get(&read, &admin).await.expect(200).body;
    assert_eq!(got["file"]["status"], "available");
    assert_eq!(got["file"]["expired"], true, "a licence that ended yesterday is flagged");
    let download = reqwest::get(got["download"]["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(download.status().as_u16(), 200);
    assert!(download.headers()["content-disposition"].to_str().unwrap().contains("security-licence.pdf"));
    assert_eq!(download.bytes().await.unwrap().to_vec(), bytes, "the same bytes come back");

    // The download link is short-lived (local tickets check the server's clock).
    if backend == Backend::Sqlite {
        let url = got["download"]["url"].as_str().unwrap().to_owned();
        app.advance(Duration::minutes(6));
        assert_eq!(reqwest::get(url).await.unwrap().status().as_u16(), 403);
    }
    let admin = app.admin().await.access_token;
    let listed = app.get(&format!("/v1/users/{guard}/files"), &admin).await.expect(200).body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["kind"], "licence");
}

async fn uploads_are_held_to_what_was_declared(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let guard = app.create_employee(&admin, "G-1", "gwen", PASSWORD).await;
    let url = format!("/v1/users/{guard}/files");
    let next_year = app.now().date_naive() + Duration::days(365);

    // Refused at the door: a type off the list, too big, a path for a name.
    let mut bad = licence(10, next_year);
    bad["content_type"] = json!("text/html");
    bad["size"] = json!(10 * 1024 * 1024 + 1);
    bad["name"] = json!("../../etc/passwd");
    let fields: Vec<_> = app.post(&url, &admin, bad).await.expect(422).body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["name", "content_type", "size"]);

    // Declared 10 bytes of PDF: more bytes, or another type, never become the file. The local
    // server refuses them at the door. S3 refuses a request whose signed headers (length, type)
    // differ; moto does not check signatures, so there the first read refuses what arrived.
    let mut cases = vec![(vec![1; 11], None)];
    if backend == Backend::Sqlite {
        cases.push((vec![1; 10], Some("image/png")));
    }
    for (bytes, content_type) in cases {
        let ticket = app.post(&url, &admin, licence(10, next_year)).await.expect(201).body;
        let file = ticket["file"]["id"].as_str().unwrap().to_owned();
        let sent = upload(&ticket["upload"], bytes, content_type).await;
        let read = app.get(&format!("{url}/{file}"), &admin).await.expect(409);
        let expected = if sent < 300 { "upload-refused" } else { "upload-pending" };
        assert_eq!(read.problem_type(), expected, "sent: {sent}");
        if backend == Backend::Sqlite {
            assert_eq!(sent, 403, "the local server checks the ticket");
        }
    }
    let listed = app.get(&url, &admin).await.expect(200).body;
    assert!(listed["items"].as_array().unwrap().iter().all(|f| f["status"] != "available"), "{listed}");
}

async fn only_the_user_and_managers_in_scope_handle_a_users_files(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await.access_token;
    let gwen = app.create_employee(&admin, "G-1", "gwen", PASSWORD).await;
    app.create_employee(&admin, "G-2", "gus", PASSWORD).await;
    let (gwen_token, gus) =
        (app.login("gwen", PASSWORD).await.access_token, app.login("gus", PASSWORD).await.access_token);
    let picture = json!({"kind": "picture", "name": "me.png", "content_type": "image/png", "size": 68});
    // One's own picture: yes. Someone else's files: no, to read or to add.
    let mine = app.post(&format!("/v1/users/{gwen}/files"), &gwen_token, picture.clone()).await.expect(201).body;
    let file = mine["file"]["id"].as_str().unwrap();
    app.post(&format!("/v1/users/{gwen}/files"), &gus, picture).await.expect(403);
    app.get(&format!("/v1/users/{gwen}/files"), &gus).await.expect(403);
    app.get(&format!("/v1/users/{gwen}/files/{file}"), &gus).await.expect(403);
    app.get(&format!("/v1/users/{gwen}/files"), &gwen_token).await.expect(200);
    let unknown = ulid::Ulid::new();
    app.get(&format!("/v1/users/{gwen}/files/{unknown}"), &gwen_token).await.expect(404);
}
