// Vietnamese first, English on the switch (kept in localStorage).

export type Lang = "vi" | "en";

const STRINGS = {
  app_title: ["Đội 178 – Kiểm tra", "Team 178 – Inspection"],
  net_online: ["Trực tuyến", "Online"],
  net_offline: ["Ngoại tuyến", "Offline"],
  net_syncing: ["Đang đồng bộ…", "Syncing…"],
  outbox: ["Hộp gửi", "Outbox"],
  lang_switch: ["EN", "VI"],
  lang_switch_label: ["Switch to English", "Chuyển sang tiếng Việt"],
  sign_in: ["Đăng nhập", "Sign in"],
  username: ["Tên đăng nhập", "Username"],
  password: ["Mật khẩu", "Password"],
  server_url: ["Địa chỉ máy chủ", "Server address"],
  server_settings: ["Cài đặt máy chủ", "Server settings"],
  signing_in: ["Đang đăng nhập…", "Signing in…"],
  needs_sign_in: ["Phiên làm việc đã hết hạn: đăng nhập lại. Các biên bản đã ghi vẫn được giữ.", "Your session ended: sign in again. Recorded visits are kept."],
  home: ["Trang chính", "Home"],
  today: ["Hôm nay", "Today"],
  assignments_today: ["Nhiệm vụ hôm nay", "Today's assignments"],
  no_assignments: ["Không có nhiệm vụ hôm nay.", "No assignments today."],
  nearby: ["Cơ sở gần đây", "Nearby establishments"],
  search: ["Tìm cơ sở (tên, địa chỉ, chủ, giấy phép)", "Find an establishment (name, address, owner, licence)"],
  no_results: ["Không tìm thấy cơ sở nào.", "No establishment found."],
  no_location: ["Chưa có vị trí: danh sách không sắp theo khoảng cách.", "No location: the list is not sorted by distance."],
  visited: ["Đã kiểm tra", "Visited"],
  window: ["Thời hạn", "Window"],
  establishment: ["Cơ sở", "Establishment"],
  address: ["Địa chỉ", "Address"],
  type: ["Loại hình", "Type"],
  risk: ["Mức rủi ro", "Risk"],
  status: ["Trạng thái", "Status"],
  owner: ["Chủ cơ sở", "Owner"],
  team_visits: ["Các lần kiểm tra của đội", "Team's visits"],
  local_visits: ["Biên bản trên máy này", "Visits on this phone"],
  none: ["Chưa có.", "None yet."],
  start_visit: ["Bắt đầu kiểm tra", "Start inspection"],
  back: ["Quay lại", "Back"],
  checklist: ["Danh mục kiểm tra", "Checklist"],
  legal_basis: ["Căn cứ pháp lý", "Legal basis"],
  violations: ["Vi phạm", "Violations"],
  add_violation: ["Thêm vi phạm", "Add a violation"],
  add_violation_for_item: ["Ghi vi phạm cho mục này", "Record a violation for this item"],
  remove: ["Xoá", "Remove"],
  violation_code: ["Mã vi phạm", "Violation code"],
  description: ["Mô tả", "Description"],
  proposed_fine: ["Mức phạt đề xuất (đồng)", "Proposed fine (VND)"],
  members_present: ["Thành viên có mặt", "Members present"],
  you: ["(bạn)", "(you)"],
  minutes_no: ["Số biên bản", "Minutes number"],
  outcome: ["Kết luận", "Outcome"],
  choose: ["— Chọn —", "— Choose —"],
  notes: ["Ghi chú", "Notes"],
  follow_up_on: ["Ngày kiểm tra lại (dd/mm/yyyy)", "Follow-up date (dd/mm/yyyy)"],
  bad_date: ["Ngày không hợp lệ: nhập theo dạng dd/mm/yyyy.", "Invalid date: use dd/mm/yyyy."],
  gps: ["Vị trí GPS", "GPS location"],
  gps_capture: ["Lấy vị trí GPS", "Capture GPS"],
  gps_capturing: ["Đang lấy vị trí…", "Getting the location…"],
  gps_none: ["Chưa lấy vị trí.", "No location yet."],
  gps_denied: ["Không lấy được vị trí: ", "Could not get the location: "],
  accuracy: ["Độ chính xác", "Accuracy"],
  distance: ["Cách cơ sở", "Distance from the establishment"],
  gps_far: ["Cảnh báo: vị trí cách cơ sở xa hơn", "Warning: recorded farther from the establishment than"],
  gps_no_est_location: ["Cảnh báo: cơ sở chưa có toạ độ để so sánh.", "Warning: the establishment has no known location."],
  photos: ["Ảnh", "Photos"],
  take_photo: ["Chụp ảnh", "Take a photo"],
  from_gallery: ["Chọn từ thư viện", "From the gallery"],
  photo_saving: ["Đang lưu ảnh…", "Saving the photo…"],
  review: ["Xem lại và gửi", "Review and submit"],
  review_title: ["Xem lại biên bản", "Review the visit"],
  answers: ["Câu trả lời", "Answers"],
  submit: ["Gửi biên bản", "Submit"],
  submitted: ["Đã lưu vào hộp gửi.", "Saved to the outbox."],
  edit: ["Sửa", "Edit"],
  sync_now: ["Đồng bộ ngay", "Sync now"],
  outbox_empty: ["Hộp gửi trống.", "The outbox is empty."],
  submitted_at: ["Gửi lúc", "Submitted"],
  acknowledged_at: ["Máy chủ nhận lúc", "Acknowledged"],
  sync_ok: ["Đồng bộ xong.", "Sync complete."],
  sync_failed: ["Đồng bộ chưa xong: ", "Sync not complete: "],
  last_sync: ["Lần đồng bộ cuối", "Last sync"],
  never: ["chưa có", "never"],
  settings: ["Cài đặt", "Settings"],
  save: ["Lưu", "Save"],
  saved: ["Đã lưu.", "Saved."],
  gps_radius: ["Bán kính cảnh báo GPS (m)", "GPS warning radius (m)"],
  signed_in_as: ["Đăng nhập với", "Signed in as"],
  error: ["Lỗi", "Error"],
  error_field: ["Trường", "Field"],
  pass: ["Đạt", "Pass"],
  fail: ["Không đạt", "Fail"],
  not_applicable: ["Không áp dụng", "N/A"],
  no_violation: ["Không phát hiện vi phạm", "No violation found"],
  violations_found: ["Phát hiện vi phạm", "Violations found"],
  not_operating: ["Cơ sở không hoạt động", "Not operating"],
  refused: ["Cơ sở không hợp tác", "Entry refused"],
  st_draft: ["Bản nháp", "Draft"],
  st_queued: ["Chờ gửi", "Queued"],
  st_sending: ["Đang gửi", "Sending"],
  st_evidence_pending: ["Chờ gửi ảnh", "Photos pending"],
  st_done: ["Đã gửi xong", "Done"],
  st_conflict: ["Xung đột", "Conflict"],
  st_failed: ["Bị từ chối", "Refused"],
  photos_uploaded: ["ảnh đã gửi", "photos uploaded"],
  err_invalid_credentials: ["Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password."],
  err_offline: ["Không kết nối được máy chủ.", "The server cannot be reached."],
  err_not_configured: ["Chưa nhập địa chỉ máy chủ.", "No server address set."],
  err_not_signed_in: ["Chưa đăng nhập.", "Not signed in."],
  err_needs_sign_in: ["Cần đăng nhập lại.", "Sign in again."],
  err_not_found: ["Không tìm thấy trên máy này (hãy đồng bộ).", "Not found on this phone (sync first)."],
  err_not_editable: ["Biên bản đã gửi, không sửa được nữa.", "The visit was submitted and can no longer be changed."],
  "type.karaoke": ["Karaoke", "Karaoke"],
  "type.dance_hall": ["Vũ trường", "Dance hall"],
  "type.massage_sauna": ["Xoa bóp, xông hơi", "Massage and sauna"],
  "type.hotel": ["Khách sạn", "Hotel"],
  "type.guesthouse": ["Nhà nghỉ", "Guesthouse"],
  "type.bar": ["Quán bar", "Bar"],
  "type.restaurant_hostess": ["Nhà hàng có tiếp viên", "Restaurant with hostesses"],
  "type.other": ["Khác", "Other"],
  "risk.low": ["Thấp", "Low"],
  "risk.medium": ["Trung bình", "Medium"],
  "risk.high": ["Cao", "High"],
  "est.operating": ["Đang hoạt động", "Operating"],
  "est.suspended": ["Tạm ngừng hoạt động", "Suspended"],
  "est.closed": ["Đã đóng cửa", "Closed"],
  "review.submitted": ["Chờ duyệt", "Submitted"],
  "review.accepted": ["Đã duyệt", "Accepted"],
  "review.correction_requested": ["Yêu cầu bổ sung", "Correction requested"],
  "review.rejected": ["Không duyệt", "Rejected"],
} as const;

export type Key = keyof typeof STRINGS;

let lang: Lang = (() => {
  try { return localStorage.getItem("doi178.lang") === "en" ? "en" : "vi"; } catch { return "vi"; }
})();

export function getLang(): Lang { return lang; }

export function setLang(l: Lang): void {
  lang = l;
  try { localStorage.setItem("doi178.lang", l); } catch { /* private mode */ }
  document.documentElement.lang = l;
}

export function t(key: Key): string {
  return STRINGS[key][lang === "vi" ? 0 : 1];
}

/** A label for a code (`type.karaoke`, `risk.high`…), the code itself when unknown. */
export function label(prefix: string, code: string | null | undefined): string {
  if (!code) return "";
  const k = `${prefix}${code}` as Key;
  return k in STRINGS ? t(k) : code;
}
