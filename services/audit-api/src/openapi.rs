//! The OpenAPI 3.1 document of the audit API, built from the service's public URL so that its
//! server and token URLs are this deployment's. Its schemas are JSON Schema 2020-12: the tests
//! check real answers against them.

use crate::{AUDIT_PATH, AuditApi};
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

/// `GET /audit/openapi.json`.
pub(crate) async fn serve(api: web::Data<AuditApi>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(openapi_document(&api.public_url).to_string())
}

fn string(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

fn integer(description: &str) -> Value {
    json!({ "type": "integer", "minimum": 0, "description": description })
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } },
    })
}

/// The document for a service at `public_url`.
pub fn openapi_document(public_url: &str) -> Value {
    let public_url = public_url.trim_end_matches('/');
    let period = json!({
        "name": "period", "in": "query", "required": true,
        "description": "The reporting period: a month (2026-03), a quarter (2026-Q1) or a year (2026), in the service's zone.",
        "schema": { "type": "string", "pattern": "^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$" },
    });
    let client = json!({
        "name": "client", "in": "query", "required": false,
        "description": "One PGO's OAuth client id (its hostname); without it, every PGO.",
        "schema": { "type": "string" },
    });
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "pgo-exchange audit API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Usage reports for the PGO user fee (new unique users per PGO and period, the amount due in euro cents, and the evidence), signed by the service; and the access log (NEN 7513) as FHIR AuditEvents. Persons appear only as pseudonyms. Signatures verify with the keys at /oauth/jwks, or offline with `pgo-exchange report verify FILE`.",
        },
        "servers": [{ "url": format!("{public_url}{AUDIT_PATH}") }],
        "security": [{ "auditor": ["auditor"] }],
        "paths": {
            "/usage": {
                "get": {
                    "operationId": "getUsageReport",
                    "summary": "The signed usage report of a period",
                    "description": "Per PGO: the new unique users of the period (persons whose first successful exchange through that PGO in the calendar year falls in it), the amount due, and one evidence record per user. The answer is a JWS (RFC 7515, flattened JSON serialization) with an unencoded payload (RFC 7797): `payload` is the report itself, JSON (a UsageReport) or CSV.",
                    "parameters": [period, client, {
                        "name": "format", "in": "query", "required": false,
                        "description": "The report inside the signature: json (default) or csv.",
                        "schema": { "type": "string", "enum": ["json", "csv"] },
                    }],
                    "responses": {
                        "200": {
                            "description": "The signed report.",
                            "content": { "application/jose+json": { "schema": { "$ref": "#/components/schemas/SignedReport" } } },
                        },
                        "400": error_response("A parameter is missing or malformed."),
                        "401": error_response("No valid auditor's access token."),
                        "500": error_response("The service failed; try again later."),
                    },
                },
            },
            "/AuditEvent": {
                "get": {
                    "operationId": "getAccessLog",
                    "summary": "The access log of a period as FHIR R4 AuditEvents",
                    "description": "Every PGO request to a FHIR endpoint in the period, successful or not, oldest first, in pages: follow the Bundle's `next` link.",
                    "parameters": [period, client, {
                        "name": "_count", "in": "query", "required": false,
                        "description": "Entries per page (1-5000, default 500).",
                        "schema": { "type": "integer", "minimum": 1, "maximum": 5000 },
                    }, {
                        "name": "after", "in": "query", "required": false,
                        "description": "Continue after this entry (from a `next` link).",
                        "schema": { "type": "integer", "minimum": 0 },
                    }],
                    "responses": {
                        "200": {
                            "description": "A Bundle of type collection holding AuditEvents.",
                            "content": { "application/fhir+json": { "schema": { "$ref": "#/components/schemas/AuditBundle" } } },
                        },
                        "400": error_response("A parameter is missing or malformed."),
                        "401": error_response("No valid auditor's access token."),
                        "500": error_response("The service failed; try again later."),
                    },
                },
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "security": [],
                    "responses": { "200": { "description": "The OpenAPI document.", "content": { "application/json": {} } } },
                },
            },
        },
        "components": {
            "securitySchemes": {
                "auditor": {
                    "type": "oauth2",
                    "description": "Client credentials (RFC 6749 §4.4) of an auditor configured in the service, sent with HTTP Basic authentication.",
                    "flows": { "clientCredentials": {
                        "tokenUrl": format!("{public_url}/oauth/token"),
                        "scopes": { "auditor": "Read usage reports and the access log" },
                    } },
                },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "error_description"],
                    "properties": { "error": string("An RFC 6749/6750 error code."), "error_description": string("What went wrong.") },
                    "additionalProperties": false,
                },
                "SignedReport": {
                    "type": "object",
                    "required": ["protected", "payload", "signature"],
                    "properties": {
                        "protected": string("Base64url of the header: alg ES256, kid, typ pgx-usage-report+jws, cty (application/json or text/csv), b64 false, crit [b64]."),
                        "payload": string("The report text as signed (a UsageReport in JSON, or CSV)."),
                        "signature": string("Base64url of the ES256 signature over protected, a dot, and the payload's bytes."),
                    },
                    "additionalProperties": false,
                },
                "UsageReport": {
                    "type": "object",
                    "required": ["kind", "issuer", "generated_at", "period", "client_id", "currency", "clients", "totals"],
                    "properties": {
                        "kind": { "const": metering::report::REPORT_KIND },
                        "issuer": string("The service that witnessed the exchanges."),
                        "generated_at": { "type": "string", "format": "date-time" },
                        "period": {
                            "type": "object",
                            "required": ["id", "start", "end", "zone"],
                            "properties": {
                                "id": string("2026-03, 2026-Q1 or 2026."),
                                "start": { "type": "string", "format": "date-time" },
                                "end": { "type": "string", "format": "date-time", "description": "The first instant after the period." },
                                "zone": string("The zone the calendar is reckoned in."),
                            },
                            "additionalProperties": false,
                        },
                        "client_id": { "type": ["string", "null"], "description": "The one PGO reported on, or null for all." },
                        "currency": { "const": "EUR" },
                        "clients": { "type": "array", "items": { "$ref": "#/components/schemas/ClientUsage" } },
                        "totals": {
                            "type": "object",
                            "required": ["clients", "new_users", "amount_cents"],
                            "properties": {
                                "clients": integer("PGOs with new users."),
                                "new_users": integer("New unique users."),
                                "amount_cents": integer("The amount due, in euro cents."),
                            },
                            "additionalProperties": false,
                        },
                    },
                    "additionalProperties": false,
                },
                "ClientUsage": {
                    "type": "object",
                    "required": ["client_id", "new_users", "amount_cents", "evidence"],
                    "properties": {
                        "client_id": string("The PGO's OAuth client id."),
                        "new_users": integer("New unique users in the period."),
                        "amount_cents": integer("The amount due, in euro cents."),
                        "evidence": { "type": "array", "items": { "$ref": "#/components/schemas/Evidence" } },
                    },
                    "additionalProperties": false,
                },
                "Evidence": {
                    "type": "object",
                    "required": ["pseudonym", "first_exchange", "request_id", "provider", "data_service", "kind", "tariff_cents"],
                    "properties": {
                        "pseudonym": string("The person's pseudonym: a keyed hash of the BSN, not reversible."),
                        "first_exchange": { "type": "string", "format": "date-time", "description": "The person's first successful exchange through this PGO in the calendar year." },
                        "request_id": string("Its MedMij-Request-ID."),
                        "provider": string("The provider's MedMij name."),
                        "data_service": string("The data service."),
                        "kind": { "enum": ["collect", "share"] },
                        "tariff_cents": integer("The fee for this user, in euro cents."),
                    },
                    "additionalProperties": false,
                },
                "AuditBundle": {
                    "type": "object",
                    "required": ["resourceType", "type", "entry"],
                    "properties": {
                        "resourceType": { "const": "Bundle" },
                        "type": { "const": "collection" },
                        "timestamp": { "type": "string" },
                        "link": { "type": "array" },
                        "entry": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["fullUrl", "resource"],
                                "properties": {
                                    "fullUrl": { "type": "string" },
                                    "resource": {
                                        "type": "object",
                                        "required": ["resourceType", "type", "recorded", "agent", "source"],
                                        "properties": { "resourceType": { "const": "AuditEvent" } },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    })
}
