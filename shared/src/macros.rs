//! `domain_enum!`: one declaration per closed list of codes, so that the wire code, serde, parsing
//! and the Vietnamese and English labels can never drift apart.

/// Declares a fieldless enum whose every variant has a wire code and two labels:
///
/// ```ignore
/// domain_enum! {
///     /// Doc comment.
///     pub enum RiskLevel ("risk") {
///         Low = "low", "Thấp", "Low";
///     }
/// }
/// ```
///
/// The string in parentheses is the field named by parse errors. Generates `ALL`, `as_str`,
/// `label_vi`, `label_en`, `parse`, `FromStr`, `Display` (the wire code) and serde as the code.
macro_rules! domain_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($field:literal) {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $wire:literal, $vi:literal, $en:literal;
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            ::serde::Serialize, ::serde::Deserialize,
        )]
        #[cfg_attr(
            feature = "diesel",
            derive(::diesel::expression::AsExpression, ::diesel::deserialize::FromSqlRow),
            diesel(sql_type = ::diesel::sql_types::Text)
        )]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[serde(rename = $wire)]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The field named by errors when parsing this type.
            pub const FIELD: &'static str = $field;

            /// The wire code (snake_case), as stored and sent over the API.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }

            /// Vietnamese label for the dashboard and reports.
            pub const fn label_vi(self) -> &'static str {
                match self {
                    $($name::$variant => $vi,)+
                }
            }

            /// English label.
            pub const fn label_en(self) -> &'static str {
                match self {
                    $($name::$variant => $en,)+
                }
            }

            /// Parses a wire code; the error names [`Self::FIELD`].
            pub fn parse(s: &str) -> $crate::error::DomainResult<Self> {
                match s.trim() {
                    $($wire => Ok($name::$variant),)+
                    other => Err($crate::error::DomainError::invalid(
                        $field,
                        format!(
                            "unknown value {other:?}; expected one of: {}",
                            [$($wire),+].join(", ")
                        ),
                    )),
                }
            }
        }

        impl $crate::lang::Labelled for $name {
            fn label_vi(&self) -> &'static str {
                $name::label_vi(*self)
            }
            fn label_en(&self) -> &'static str {
                $name::label_en(*self)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::error::DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// A string with the wire codes as its values (feature `openapi`).
        #[cfg(feature = "openapi")]
        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                ::utoipa::openapi::ObjectBuilder::new()
                    .schema_type(::utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($wire),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl ::utoipa::ToSchema for $name {}

        /// Read from a text column: an unknown code is an error naming the value (feature
        /// `diesel`).
        #[cfg(feature = "diesel")]
        impl<DB> ::diesel::deserialize::FromSql<::diesel::sql_types::Text, DB> for $name
        where
            DB: ::diesel::backend::Backend,
            String: ::diesel::deserialize::FromSql<::diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> ::diesel::deserialize::Result<Self> {
                let code = <String as ::diesel::deserialize::FromSql<
                    ::diesel::sql_types::Text,
                    DB,
                >>::from_sql(bytes)?;
                Self::parse(&code).map_err(|e| e.to_string().into())
            }
        }

        /// Written to a text column as its wire code (feature `diesel`).
        #[cfg(feature = "diesel")]
        impl<DB> ::diesel::serialize::ToSql<::diesel::sql_types::Text, DB> for $name
        where
            DB: ::diesel::backend::Backend,
            str: ::diesel::serialize::ToSql<::diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut ::diesel::serialize::Output<'b, '_, DB>,
            ) -> ::diesel::serialize::Result {
                <str as ::diesel::serialize::ToSql<::diesel::sql_types::Text, DB>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }
    };
}

/// Shared test for a `domain_enum!` type: codes unique and snake_case, serde equals `as_str`,
/// parse round-trips, unknown codes fail naming the field, labels non-empty and NFC.
#[cfg(test)]
macro_rules! test_domain_enum {
    ($name:ty) => {{
        use unicode_normalization::UnicodeNormalization as _;
        let all = <$name>::ALL;
        assert!(!all.is_empty());
        let mut codes = std::collections::BTreeSet::new();
        for v in all {
            let code = v.as_str();
            assert!(codes.insert(code), "duplicate code {code}");
            assert!(
                code.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "code {code} is not snake_case"
            );
            assert_eq!(
                serde_json::to_string(v).expect("serialize"),
                format!("\"{code}\"")
            );
            let back: $name = serde_json::from_str(&format!("\"{code}\"")).expect("deserialize");
            assert_eq!(back, *v);
            assert_eq!(<$name>::parse(code).expect("parse"), *v);
            assert_eq!(code.parse::<$name>().expect("from_str"), *v);
            assert_eq!(v.to_string(), code);
            assert!(!v.label_vi().is_empty());
            assert!(!v.label_en().is_empty());
            assert_eq!(v.label_vi().nfc().collect::<String>(), v.label_vi());
        }
        let err = <$name>::parse("no_such_code").expect_err("unknown code");
        assert_eq!(err.field, <$name>::FIELD);
        assert_eq!(err.code, "invalid");
        assert!(serde_json::from_str::<$name>("\"no_such_code\"").is_err());
    }};
}
