//! Every machine code an error of the API can carry (`code` of the problem body, and the last
//! segment of its `type`, `/problems/<code>`). Clients branch on these; a new one is added here,
//! so the OpenAPI document lists it. The labels are short titles for people.

domain_enum! {
    /// The stable machine code of an error.
    pub enum ProblemCode ("code") {
        // Input that does not pass the rules (mostly 422, naming the field).
        /// A value is missing or empty.
        Required = "required", "Thiếu thông tin bắt buộc", "A required value is missing";
        /// A text or list is longer than allowed.
        TooLong = "too_long", "Quá dài", "Too long";
        /// A value is malformed.
        Invalid = "invalid", "Giá trị không hợp lệ", "Invalid value";
        /// A number, date or position lies outside the allowed range.
        OutOfRange = "out_of_range", "Ngoài phạm vi cho phép", "Out of the allowed range";
        /// The same value appears twice where values must be unique, or a record with the same
        /// key exists.
        Duplicate = "duplicate", "Trùng lặp", "Duplicate";
        /// A status change that the life cycle does not allow.
        InvalidTransition = "invalid_transition", "Không thể chuyển trạng thái", "Status change not allowed";
        /// Two fields contradict each other.
        Inconsistent = "inconsistent", "Thông tin mâu thuẫn", "Values contradict each other";
        /// A reference to a record that does not exist.
        InvalidReference = "invalid_reference", "Tham chiếu không tồn tại", "Reference to a missing record";
        /// No such agency (or not one the caller may use).
        UnknownAgency = "unknown_agency", "Không có cơ quan này", "Unknown agency";
        /// No such assignment (or not one the caller may use).
        UnknownAssignment = "unknown_assignment", "Không có nhiệm vụ này", "Unknown assignment";
        /// No such establishment (or not one the caller may use).
        UnknownEstablishment = "unknown_establishment", "Không có cơ sở này", "Unknown establishment";
        /// An answer names an item that is not on the visit's checklist.
        UnknownItem = "unknown_item", "Không có mục này trong bảng kiểm", "Not an item of the checklist";
        /// No such checklist template.
        UnknownTemplate = "unknown_template", "Không có bảng kiểm này", "Unknown checklist template";
        /// No such tip (or not one the caller may use).
        UnknownTip = "unknown_tip", "Không có tin báo này", "Unknown tip";
        /// No such administrative unit (or not one the caller may use).
        UnknownUnit = "unknown_unit", "Không có đơn vị hành chính này", "Unknown administrative unit";
        /// No such user (or not one the caller may use).
        UnknownUser = "unknown_user", "Không có tài khoản này", "Unknown user";
        /// No such visit (or not one the caller may use).
        UnknownVisit = "unknown_visit", "Không có lượt kiểm tra này", "Unknown visit";
        /// A person named is not a member of the team.
        NotAMember = "not_a_member", "Không phải thành viên của đội", "Not a member of the team";
        /// The account has no unit or team to open a page on.
        NoUnit = "no_unit", "Tài khoản chưa có đơn vị", "The account has no unit";
        /// A password shorter than the policy's minimum.
        TooShort = "too_short", "Mật khẩu quá ngắn", "Password too short";
        /// A password that contains the user name.
        ContainsUsername = "contains_username", "Mật khẩu chứa tên đăng nhập", "Password contains the user name";
        /// A password on the list of common passwords.
        CommonPassword = "common_password", "Mật khẩu quá phổ biến", "Password too common";
        // The request itself (mostly 400, 404, 413, 415).
        /// The body is not valid JSON, or not of the expected shape.
        MalformedJson = "malformed_json", "Dữ liệu JSON không hợp lệ", "Malformed JSON";
        /// The JSON nests deeper than allowed.
        TooDeep = "too_deep", "Dữ liệu lồng quá sâu", "Nested too deeply";
        /// The body or a file is larger than allowed.
        TooLarge = "too_large", "Dữ liệu quá lớn", "Too large";
        /// The body ended before its announced length.
        IncompleteBody = "incomplete_body", "Dữ liệu gửi lên bị thiếu", "Incomplete body";
        /// The body is not UTF-8.
        InvalidUtf8 = "invalid_utf8", "Dữ liệu không phải UTF-8", "Not UTF-8";
        /// A path parameter is malformed.
        InvalidPath = "invalid_path", "Đường dẫn không hợp lệ", "Invalid path";
        /// A query parameter is malformed or unknown.
        InvalidQuery = "invalid_query", "Tham số truy vấn không hợp lệ", "Invalid query";
        /// The content type is not one the endpoint takes.
        UnsupportedMediaType = "unsupported_media_type", "Kiểu dữ liệu không được hỗ trợ", "Unsupported media type";
        /// The body's digest is not the one announced (`Content-Digest`).
        DigestMismatch = "digest_mismatch", "Mã kiểm tra dữ liệu không khớp", "Digest mismatch";
        /// A photo that is not a decodable JPEG or PNG.
        NotAnImage = "not_an_image", "Không phải ảnh", "Not an image";
        /// An image that cannot be decoded.
        CorruptImage = "corrupt_image", "Ảnh bị hỏng", "Corrupt image";
        /// No such page of a paged list (a cursor that does not fit).
        NoSuchPage = "no_such_page", "Không có trang này", "No such page";
        /// No such route.
        NoSuchRoute = "no_such_route", "Không có đường dẫn này", "No such route";
        /// No such record, or one outside the caller's jurisdiction (the same answer).
        NotFound = "not_found", "Không tìm thấy", "Not found";
        // Who is asking (401, 403, 429).
        /// No valid credentials.
        Unauthorized = "unauthorized", "Chưa đăng nhập", "Not signed in";
        /// Wrong user name or password.
        InvalidCredentials = "invalid_credentials", "Sai tên đăng nhập hoặc mật khẩu", "Wrong user name or password";
        /// An access token that is malformed or not ours.
        InvalidToken = "invalid_token", "Mã truy cập không hợp lệ", "Invalid access token";
        /// An access token past its time.
        TokenExpired = "token_expired", "Mã truy cập đã hết hạn", "Access token expired";
        /// A refresh token that is unknown, malformed or expired.
        InvalidRefreshToken = "invalid_refresh_token", "Mã làm mới không hợp lệ", "Invalid refresh token";
        /// A refresh token presented twice: the session is revoked.
        RefreshTokenReused = "refresh_token_reused", "Mã làm mới đã dùng rồi", "Refresh token reused";
        /// Another refresh of the same session is under way.
        RefreshInProgress = "refresh_in_progress", "Đang làm mới phiên", "Refresh in progress";
        /// The session was signed out or revoked.
        SessionRevoked = "session_revoked", "Phiên đăng nhập đã kết thúc", "Session revoked";
        /// Too many failed sign-ins: wait before trying again.
        TooManySignInFailures = "too_many_sign_in_failures", "Đăng nhập sai quá nhiều lần", "Too many failed sign-ins";
        /// The account's password was reset to a temporary one: choose a new one first.
        PasswordChangeRequired = "password_change_required", "Cần đổi mật khẩu", "Password change required";
        /// The current password given to change it is wrong.
        WrongPassword = "wrong_password", "Mật khẩu hiện tại không đúng", "Wrong current password";
        /// A dashboard form without its anti-forgery token.
        Csrf = "csrf", "Biểu mẫu đã hết hạn", "Form token missing or wrong";
        /// The role or jurisdiction does not allow it.
        Forbidden = "forbidden", "Không có quyền", "Forbidden";
        // State (409) and the server (500, 503).
        /// The request conflicts with the stored state (an idempotency key with another body).
        Conflict = "conflict", "Xung đột dữ liệu", "Conflict";
        /// A revision older than the stored one.
        StaleRevision = "stale_revision", "Bản ghi đã được sửa trước đó", "Stale revision";
        /// A photo listed by another team's visit.
        PhotoInUse = "photo_in_use", "Ảnh đã thuộc lượt kiểm tra khác", "Photo in use";
        /// A photo that neither the visit's authors nor its team uploaded.
        NotYourPhoto = "not_your_photo", "Ảnh không do đội tải lên", "Not your photo";
        /// Something failed on the server; nothing was saved.
        Internal = "internal", "Lỗi máy chủ", "Internal error";
        /// The server cannot take the request now: try again later.
        Unavailable = "unavailable", "Máy chủ tạm thời bận", "Temporarily unavailable";
    }
}

impl PartialEq<&str> for ProblemCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_codes_are_a_domain_enum() {
        test_domain_enum!(ProblemCode);
    }

    #[test]
    fn a_code_equals_its_wire_text() {
        assert_eq!(ProblemCode::NotYourPhoto, "not_your_photo");
        assert_ne!(ProblemCode::Invalid, "invalid_query");
    }
}
