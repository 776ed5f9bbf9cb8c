// @generated-style: written to match migrations/*/*/up.sql (initial + coverage); keep in step.
// One portable schema for SQLite and PostgreSQL.

diesel::table! {
    sync_counter (id) {
        id -> Integer,
        value -> BigInt,
    }
}

diesel::table! {
    admin_units (id) {
        id -> Text,
        code -> Text,
        code_version -> Text,
        name -> Text,
        full_name -> Text,
        name_en -> Text,
        level -> Text,
        kind -> Text,
        parent_id -> Nullable<Text>,
        path -> Text,
        search_key -> Text,
        valid_from -> Date,
        valid_to -> Nullable<Date>,
        area_km2 -> Nullable<Double>,
    }
}

diesel::table! {
    unit_lineage (from_unit, to_unit) {
        from_unit -> Text,
        to_unit -> Text,
        kind -> Text,
        effective -> Date,
    }
}

diesel::table! {
    agencies (id) {
        id -> Text,
        kind -> Text,
        name -> Text,
        unit_id -> Nullable<Text>,
    }
}

diesel::table! {
    teams (id) {
        id -> Text,
        name -> Text,
        level -> Text,
        unit_id -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        role -> Text,
        unit_id -> Nullable<Text>,
        agency_id -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        must_change_password -> Bool,
    }
}

diesel::table! {
    team_members (team_id, user_id) {
        team_id -> Text,
        user_id -> Text,
        role -> Text,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    establishments (id) {
        id -> Text,
        name -> Text,
        establishment_type -> Text,
        unit_id -> Text,
        address -> Text,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        business_reg_no -> Nullable<Text>,
        licence_no -> Nullable<Text>,
        licence_issued_on -> Nullable<Date>,
        licence_expires_on -> Nullable<Date>,
        antt_cert_no -> Nullable<Text>,
        owner_name -> Nullable<Text>,
        phone -> Nullable<Text>,
        status -> Text,
        opened_on -> Nullable<Date>,
        closed_on -> Nullable<Date>,
        risk -> Text,
        commitment_signed -> Bool,
        commitment_signed_on -> Nullable<Date>,
        search_key -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        seq -> BigInt,
    }
}

diesel::table! {
    checklist_templates (id) {
        id -> Text,
        establishment_type -> Text,
        version -> Integer,
        title -> Text,
        items -> Text,
        valid_from -> Date,
        created_at -> Timestamp,
        seq -> BigInt,
    }
}

diesel::table! {
    programmes (id) {
        id -> Text,
        name -> Text,
        period_start -> Date,
        period_end -> Date,
        annual_min_share_bp -> Integer,
        end_share_bp -> Integer,
        types_in_scope -> Text,
        counted_outcomes -> Text,
        province_overrides -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    assignments (id) {
        id -> Text,
        team_id -> Text,
        kind -> Text,
        status -> Text,
        window_start -> Date,
        window_end -> Date,
        note -> Nullable<Text>,
        tip_id -> Nullable<Text>,
        follow_up_of -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        released_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        seq -> BigInt,
    }
}

diesel::table! {
    assignment_establishments (assignment_id, establishment_id) {
        assignment_id -> Text,
        establishment_id -> Text,
    }
}

diesel::table! {
    tips (id) {
        id -> Text,
        channel -> Text,
        received_at -> Timestamp,
        content -> Text,
        unit_id -> Text,
        establishment_id -> Nullable<Text>,
        reporter_contact -> Nullable<Text>,
        deadline -> Date,
        status -> Text,
        handled_at -> Nullable<Timestamp>,
        assignment_id -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    visits (id) {
        id -> Text,
        revision -> Integer,
        establishment_id -> Text,
        team_id -> Text,
        assignment_id -> Nullable<Text>,
        submitted_by -> Text,
        started_at -> Timestamp,
        ended_at -> Timestamp,
        received_at -> Timestamp,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        accuracy_m -> Nullable<Double>,
        distance_m -> Nullable<Double>,
        gps_warning -> Nullable<Text>,
        template_id -> Text,
        template_version -> Integer,
        outcome -> Text,
        minutes_no -> Nullable<Text>,
        follow_up_on -> Nullable<Date>,
        violation_count -> Integer,
        total_fine_vnd -> BigInt,
        review_status -> Text,
        review_comment -> Nullable<Text>,
        body -> Text,
        digest -> Text,
        original_digest -> Text,
        updated_at -> Timestamp,
        seq -> BigInt,
    }
}

diesel::table! {
    inspection_days (establishment_id, day) {
        establishment_id -> Text,
        day -> Date,
        visits -> Integer,
    }
}

diesel::table! {
    establishment_visit_summary (establishment_id) {
        establishment_id -> Text,
        last_inspected_on -> Nullable<Date>,
        prior_violations -> BigInt,
    }
}

diesel::table! {
    coverage_rollup_since (since) {
        since -> Date,
    }
}

diesel::table! {
    coverage_rollup (since, unit_id, establishment_type) {
        since -> Date,
        unit_id -> Text,
        establishment_type -> Text,
        open_since -> Integer,
        inspected_since -> Integer,
        open_now -> Integer,
        inspected_now -> Integer,
        last_opened_on -> Nullable<Date>,
        last_closed_on -> Nullable<Date>,
        last_inspected_on -> Nullable<Date>,
    }
}

diesel::table! {
    visit_revisions (visit_id, revision) {
        visit_id -> Text,
        revision -> Integer,
        body -> Text,
        digest -> Text,
        submitted_by -> Text,
        received_at -> Timestamp,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    visit_violations (visit_id, idx) {
        visit_id -> Text,
        idx -> Integer,
        code -> Text,
        description -> Text,
        legal_basis -> Text,
        proposed_fine_vnd -> BigInt,
    }
}

diesel::table! {
    photos (id) {
        id -> Text,
        upload_sha256 -> Text,
        sha256 -> Text,
        size_bytes -> BigInt,
        width -> Integer,
        height -> Integer,
        thumb_width -> Integer,
        thumb_height -> Integer,
        taken_at -> Nullable<Timestamp>,
        uploaded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    visit_photos (visit_id, photo_id) {
        visit_id -> Text,
        photo_id -> Text,
    }
}

diesel::joinable!(unit_lineage -> admin_units (from_unit));
diesel::joinable!(agencies -> admin_units (unit_id));
diesel::joinable!(teams -> admin_units (unit_id));
diesel::joinable!(users -> admin_units (unit_id));
diesel::joinable!(users -> agencies (agency_id));
diesel::joinable!(team_members -> teams (team_id));
diesel::joinable!(team_members -> users (user_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(establishments -> admin_units (unit_id));
diesel::joinable!(assignments -> teams (team_id));
diesel::joinable!(assignments -> users (created_by));
diesel::joinable!(assignment_establishments -> assignments (assignment_id));
diesel::joinable!(assignment_establishments -> establishments (establishment_id));
diesel::joinable!(tips -> admin_units (unit_id));
diesel::joinable!(tips -> establishments (establishment_id));
diesel::joinable!(tips -> assignments (assignment_id));
diesel::joinable!(tips -> users (created_by));
diesel::joinable!(visits -> establishments (establishment_id));
diesel::joinable!(visits -> teams (team_id));
diesel::joinable!(visits -> assignments (assignment_id));
diesel::joinable!(visits -> users (submitted_by));
diesel::joinable!(visits -> checklist_templates (template_id));
diesel::joinable!(inspection_days -> establishments (establishment_id));
diesel::joinable!(establishment_visit_summary -> establishments (establishment_id));
diesel::joinable!(visit_revisions -> visits (visit_id));
diesel::joinable!(visit_revisions -> users (submitted_by));
diesel::joinable!(visit_violations -> visits (visit_id));
diesel::joinable!(photos -> users (uploaded_by));
diesel::joinable!(visit_photos -> visits (visit_id));

diesel::allow_tables_to_appear_in_same_query!(
    sync_counter,
    admin_units,
    unit_lineage,
    agencies,
    teams,
    users,
    team_members,
    refresh_tokens,
    establishments,
    checklist_templates,
    programmes,
    assignments,
    assignment_establishments,
    tips,
    visits,
    inspection_days,
    establishment_visit_summary,
    coverage_rollup_since,
    coverage_rollup,
    visit_revisions,
    visit_violations,
    photos,
    visit_photos,
    auth_failures,
);

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        actor_username -> Text,
        action -> Text,
        entity_kind -> Text,
        entity_id -> Text,
        before_digest -> Nullable<Text>,
        after_digest -> Nullable<Text>,
        summary -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    auth_failures (id) {
        id -> Text,
        scope -> Text,
        key_hash -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    /// One row: changes whenever an account, session, membership, team or unit does (triggers).
    auth_epoch (id) {
        id -> Integer,
        n -> BigInt,
    }
}

diesel::table! {
    /// The version of each shipped reference data set this database holds.
    reference_sets (name) {
        name -> Text,
        version -> Text,
        digest -> Text,
        items -> Integer,
        loaded_at -> Timestamp,
    }
}
