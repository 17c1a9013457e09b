//! The HTTPS client every AWS SDK client of a process shares.
//!
//! The SDK's default client trusts the system's root certificates, which it reads and parses
//! before the first request: on a cold start that was every file under `/etc/ssl/certs` and then
//! the bundle again (146 files here), most of what start-up cost beyond a hello-world function
//! (docs/BENCHMARKS.md). This one trusts Mozilla's roots compiled into the binary
//! (`webpki-root-certs`, the list rustls' own `webpki-roots` is made from), with the same TLS
//! library (rustls on aws-lc) the default uses.

use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use base64::Engine;

/// `loader` with this HTTPS client.
pub fn with_compiled_in_roots(loader: aws_config::ConfigLoader) -> anyhow::Result<aws_config::ConfigLoader> {
    let mut trust = TrustStore::empty().with_native_roots(false);
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        trust.add_pem_certificate(pem(cert.as_ref()));
    }
    let context = TlsContext::builder().with_trust_store(trust).build()?;
    let client =
        Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc)).tls_context(context).build_https();
    Ok(loader.http_client(client))
}

/// A DER certificate as PEM, the form the SDK's trust store takes.
fn pem(der: &[u8]) -> Vec<u8> {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(body.len() + body.len() / 64 + 64);
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    #[test]
    fn every_compiled_in_root_turns_into_a_pem_of_the_same_certificate() {
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        assert!(roots.len() > 100, "{} roots", roots.len());
        for cert in roots {
            let pem = String::from_utf8(super::pem(cert.as_ref())).unwrap_or_default();
            let lines: Vec<&str> = pem.lines().collect();
            assert_eq!(lines.first(), Some(&"-----BEGIN CERTIFICATE-----"));
            assert_eq!(lines.last(), Some(&"-----END CERTIFICATE-----"));
            assert!(lines.iter().all(|l| l.len() <= 64 || l.starts_with("-----")));
            let body: String = lines[1..lines.len() - 1].concat();
            let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap_or_default();
            assert_eq!(der, cert.as_ref());
        }
    }
}
