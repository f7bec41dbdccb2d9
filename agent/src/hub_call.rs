//! One unary call to the hub at the first endpoint that answers — how
//! enrollment and renewal reach the hub (the long-lived session has its own
//! dialling in [`crate::connection`]).
//!
//! Each endpoint is dialled in turn; a connection failure, an `Unavailable`
//! answer (a hub node without quorum, say) or a call that timed out moves on
//! to the next one; any other answer is the hub's word and ends the search.

use std::future::Future;
use std::time::Duration;

use fleet_proto::agent_service_client::AgentServiceClient;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tracing::warn;

/// How long dialling one endpoint may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one call may take once connected: a hub that accepted the
/// connection but does not answer is given up on, so the caller's retry
/// (renewal has a deadline: the certificate's expiry) is not held up.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Why no hub answered the call.
#[derive(Debug)]
pub enum HubCallError {
    /// No endpoint could be reached; the last problem, with its endpoint.
    Unreachable(String),
    /// A hub answered with a refusal.
    Refused {
        /// The endpoint that answered.
        endpoint: String,
        /// Its answer.
        status: tonic::Status,
    },
}

/// Calls `ask` on a client for the first of `endpoints` that answers, over
/// TLS configured by `tls`; `purpose` names the call in logs ("enroll").
pub async fn first_answer<T, F, Fut>(
    endpoints: &[String],
    tls: &ClientTlsConfig,
    purpose: &str,
    mut ask: F,
) -> Result<T, HubCallError>
where
    F: FnMut(AgentServiceClient<Channel>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
{
    let mut last_error = String::from("no endpoint");
    for endpoint in endpoints {
        let dialled = match Endpoint::from_shared(endpoint.clone())
            .and_then(|dial| dial.tls_config(tls.clone()))
        {
            Ok(dial) => {
                dial.connect_timeout(CONNECT_TIMEOUT)
                    .timeout(CALL_TIMEOUT)
                    .connect()
                    .await
            }
            Err(error) => {
                last_error = format!("{endpoint}: {error}");
                continue;
            }
        };
        let channel = match dialled {
            Ok(channel) => channel,
            Err(error) => {
                warn!(%endpoint, %error, "cannot reach the hub to {purpose}");
                last_error = format!("{endpoint}: {error}");
                continue;
            }
        };
        match ask(AgentServiceClient::new(channel)).await {
            Ok(response) => return Ok(response.into_inner()),
            // Not the hub's word: no quorum there, or the call timed out.
            Err(status)
                if matches!(
                    status.code(),
                    tonic::Code::Unavailable
                        | tonic::Code::DeadlineExceeded
                        | tonic::Code::Cancelled
                ) =>
            {
                last_error = format!("{endpoint}: {}", status.message());
            }
            Err(status) => {
                return Err(HubCallError::Refused {
                    endpoint: endpoint.clone(),
                    status,
                });
            }
        }
    }
    Err(HubCallError::Unreachable(last_error))
}
