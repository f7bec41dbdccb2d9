//! Bad requests get the status codes and `Status` reasons a real API server
//! returns, and store nothing. Requests are sent with the real `kube` client
//! (raw requests where the typed API would refuse to send them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use kube::api::{Api, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams};
use kube::discovery::ApiResource;
use serde_json::json;

use common::{fast_config, start};

const CONFIG_MAPS: &str = "/api/v1/namespaces/default/configmaps";

async fn send(
    client: &kube::Client,
    method: &str,
    uri: &str,
    content_type: &str,
    body: &str,
) -> kube::core::Status {
    let request = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("Content-Type", content_type)
        .body(body.as_bytes().to_vec())
        .unwrap();
    match client.request_text(request).await {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("{method} {uri} should fail, got {other:?}"),
    }
}

async fn config_map_names(client: &kube::Client) -> Vec<String> {
    let api: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), "default");
    api.list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|config_map| config_map.metadata.name)
        .collect()
}

#[tokio::test]
async fn malformed_bodies_unknown_resources_and_wrong_content_types() {
    let cluster = start(fast_config()).await;
    let client = cluster.client().await;

    let status = send(
        &client,
        "POST",
        CONFIG_MAPS,
        "application/json",
        "{\"apiVersion\": \"v1\", \"kind\": ",
    )
    .await;
    assert_eq!((status.code, status.reason.as_str()), (400, "BadRequest"));

    let status = send(
        &client,
        "PATCH",
        &format!("{CONFIG_MAPS}/broken?fieldManager=test"),
        "application/apply-patch+yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n",
    )
    .await;
    assert_eq!((status.code, status.reason.as_str()), (400, "BadRequest"));

    let status = send(
        &client,
        "POST",
        "/api/v1/namespaces/default/widgets",
        "application/json",
        "{}",
    )
    .await;
    assert_eq!((status.code, status.reason.as_str()), (404, "NotFound"));
    let status = send(
        &client,
        "GET",
        "/apis/example.com/v1/widgets",
        "application/json",
        "",
    )
    .await;
    assert_eq!(status.code, 404);

    let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"plain"}}"#;
    let status = send(&client, "POST", CONFIG_MAPS, "text/plain", body).await;
    assert_eq!(
        (status.code, status.reason.as_str()),
        (415, "UnsupportedMediaType")
    );
    let status = send(
        &client,
        "PATCH",
        &format!("{CONFIG_MAPS}/plain"),
        "application/xml",
        "<x/>",
    )
    .await;
    assert_eq!(status.code, 415);

    let status = send(
        &client,
        "POST",
        CONFIG_MAPS,
        "application/json",
        r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"wrong-kind"}}"#,
    )
    .await;
    assert_eq!(status.code, 400);

    assert!(
        config_map_names(&client).await.is_empty(),
        "nothing may be stored"
    );
}

#[tokio::test]
async fn invalid_objects_get_422_with_causes() {
    let cluster = start(fast_config()).await;
    let client = cluster.client().await;

    let status = send(
        &client,
        "POST",
        CONFIG_MAPS,
        "application/json",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}"#,
    )
    .await;
    assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"));
    let causes = status.details.unwrap().causes;
    assert_eq!(causes[0].field, "metadata.name");
    assert!(
        status.message.contains("name or generateName is required"),
        "{}",
        status.message
    );

    let status = send(
        &client,
        "POST",
        CONFIG_MAPS,
        "application/json",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_Valid"}}"#,
    )
    .await;
    assert_eq!(status.code, 422);
    assert!(status.message.contains("RFC 1123"), "{}", status.message);

    // Apply without a field manager is refused like the real server does.
    let status = send(
        &client,
        "PATCH",
        &format!("{CONFIG_MAPS}/x"),
        "application/apply-patch+yaml",
        "apiVersion: v1\nkind: ConfigMap\n",
    )
    .await;
    assert_eq!(status.code, 422);
    assert!(
        status.message.contains("fieldManager"),
        "{}",
        status.message
    );

    assert!(
        config_map_names(&client).await.is_empty(),
        "nothing may be stored"
    );
}

#[tokio::test]
async fn conflicts_missing_objects_and_missing_namespaces() {
    let cluster = start(fast_config()).await;
    let client = cluster.client().await;
    let api: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), "default");
    let config_map: k8s_openapi::api::core::v1::ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "app"}, "data": {"a": "1"}})).unwrap();
    let created = api
        .create(&PostParams::default(), &config_map)
        .await
        .unwrap();
    let error = api
        .create(&PostParams::default(), &config_map)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, kube::Error::Api(status) if status.code == 409 && status.reason == "AlreadyExists"),
        "{error:?}"
    );

    let mut stale = created.clone();
    stale.data = Some([("a".to_string(), "2".to_string())].into());
    api.replace("app", &PostParams::default(), &stale)
        .await
        .unwrap();
    stale.data = Some([("a".to_string(), "3".to_string())].into());
    let error = api
        .replace("app", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    let kube::Error::Api(status) = error else {
        panic!("expected a Status")
    };
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert!(
        status.message.contains("the object has been modified"),
        "{}",
        status.message
    );
    assert_eq!(api.get("app").await.unwrap().data.unwrap()["a"], "2");

    let error = api.get("missing").await.unwrap_err();
    let kube::Error::Api(status) = error else {
        panic!("expected a Status")
    };
    assert_eq!((status.code, status.reason.as_str()), (404, "NotFound"));
    assert_eq!(status.message, "configmaps \"missing\" not found");

    let elsewhere: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), "no-such-namespace");
    let error = elsewhere
        .create(&PostParams::default(), &config_map)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, kube::Error::Api(status) if status.code == 404 && status.message.contains("namespaces \"no-such-namespace\" not found")),
        "{error:?}"
    );

    // Custom resources do not accept strategic merge patches (415), like the real server.
    let crd_api: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::from_gvk(&GroupVersionKind::gvk(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
        )),
    );
    let crd: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "gadgets", "kind": "Gadget"},
                 "versions": [{"name": "v1", "served": true, "storage": true}]}
    }))
    .unwrap();
    crd_api
        .patch(
            "gadgets.example.com",
            &PatchParams::apply("test"),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap();
    let gadgets: Api<DynamicObject> = Api::namespaced_with(
        client.clone(),
        "default",
        &ApiResource::from_gvk(&GroupVersionKind::gvk("example.com", "v1", "Gadget")),
    );
    let gadget: DynamicObject = serde_json::from_value(json!({"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}, "spec": {"size": 1}})).unwrap();
    gadgets
        .patch("g", &PatchParams::apply("test"), &Patch::Apply(&gadget))
        .await
        .unwrap();
    let error = gadgets
        .patch(
            "g",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"size": 2}})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&error, kube::Error::Api(status) if status.code == 415),
        "{error:?}"
    );
    assert_eq!(
        gadgets.get("g").await.unwrap().data["spec"]["size"],
        json!(1)
    );
}

#[tokio::test]
async fn a_wrong_or_missing_token_gets_401() {
    let cluster = start(fast_config()).await;
    let wrong = cluster
        .simulator
        .kubeconfig()
        .replace(cluster.simulator.token(), "not-the-token");
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&wrong).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);
    let error = api.list(&Default::default()).await.unwrap_err();
    assert!(
        matches!(&error, kube::Error::Api(status) if status.code == 401 && status.reason == "Unauthorized"),
        "{error:?}"
    );

    // Over HTTPS a request without any token is refused too.
    let without_token: String = cluster
        .simulator
        .kubeconfig()
        .lines()
        .filter(|line| !line.trim_start().starts_with("token:"))
        .map(|line| {
            if line.trim() == "user:" {
                "  user: {}"
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let kubeconfig = kube::config::Kubeconfig::from_yaml(&without_token).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    let api: Api<k8s_openapi::api::core::v1::Namespace> =
        Api::all(kube::Client::try_from(config).unwrap());
    let error = api.list(&Default::default()).await.unwrap_err();
    assert!(
        matches!(&error, kube::Error::Api(status) if status.code == 401),
        "{error:?}"
    );
}

#[tokio::test]
async fn protected_namespaces_and_oversized_bodies_are_refused() {
    let cluster = start(fast_config()).await;
    let denied = cluster.kubectl(&["delete", "namespace", "default"]).await;
    assert!(!denied.success);
    assert!(
        denied.stderr.contains("this namespace may not be deleted"),
        "{}",
        denied.stderr
    );

    let client = cluster.client().await;
    let huge = format!(
        r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"huge"}},"data":{{"blob":"{}"}}}}"#,
        "x".repeat(4 * 1024 * 1024)
    );
    let status = send(&client, "POST", CONFIG_MAPS, "application/json", &huge).await;
    assert_eq!(
        (status.code, status.reason.as_str()),
        (413, "RequestEntityTooLarge")
    );
    assert!(
        config_map_names(&client).await.is_empty(),
        "nothing may be stored"
    );
}
