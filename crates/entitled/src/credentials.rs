//! The credential chain: aws-config's default order, built lazily.
//!
//! aws-config's `DefaultCredentialsChain` builds an STS client for EKS web
//! identity even where no web identity token is configured, and that client
//! loads the TLS trust store: a quarter of the guard's start-up work on ECS.
//! This chain has the same providers in the same order (environment, profile,
//! web identity, ECS container, IMDS) but adds the web identity provider only
//! where `AWS_WEB_IDENTITY_TOKEN_FILE` is set, the one case where it would
//! load anything. Profile-based web identity is the profile provider's and is
//! unaffected. Each provider is tagged with its [`CredentialSource`], so a
//! refusal can name the source that signed.

use aws_config::ecs::EcsCredentialsProvider;
use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::imds::credentials::ImdsCredentialsProvider;
use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::web_identity_token::WebIdentityTokenCredentialsProvider;

use crate::credential_source::{AnsweredBy, CredentialSource, Tagged};

/// The variable that enables EKS IRSA (web identity) credentials.
const WEB_IDENTITY_TOKEN_FILE: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";

/// Environment, profile, web identity (if configured), ECS container, IMDS.
pub(crate) fn credentials_chain(
    conf: &ProviderConfig,
    answered_by: &AnsweredBy,
) -> CredentialsProviderChain {
    let chain = CredentialsProviderChain::first_try(
        "Environment",
        Tagged::new(
            EnvironmentVariableCredentialsProvider::new(),
            CredentialSource::EnvironmentKeys,
            answered_by,
        ),
    )
    .or_else(
        "Profile",
        Tagged::new(
            ProfileFileCredentialsProvider::builder()
                .configure(conf)
                .build(),
            CredentialSource::Profile,
            answered_by,
        ),
    );
    let chain = if std::env::var_os(WEB_IDENTITY_TOKEN_FILE).is_some() {
        chain.or_else(
            "WebIdentityToken",
            Tagged::new(
                WebIdentityTokenCredentialsProvider::builder()
                    .configure(conf)
                    .build(),
                CredentialSource::Irsa,
                answered_by,
            ),
        )
    } else {
        chain
    };
    let container = CredentialSource::of_container(
        std::env::var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            .ok()
            .as_deref(),
        std::env::var("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            .ok()
            .as_deref(),
    );
    chain
        .or_else(
            "EcsContainer",
            Tagged::new(
                EcsCredentialsProvider::builder().configure(conf).build(),
                container,
                answered_by,
            ),
        )
        .or_else(
            "Ec2InstanceMetadata",
            Tagged::new(
                ImdsCredentialsProvider::builder().configure(conf).build(),
                CredentialSource::InstanceRole,
                answered_by,
            ),
        )
}
