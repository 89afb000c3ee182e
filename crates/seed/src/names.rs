//! The words of the seed's province: its departments and the fields they
//! handle, its districts, the syllables of commune names, applicants'
//! names, and what procedures are called.

/// A provincial department (sở, ban, ngành): its name, how busy it is
/// (relative share of provincial procedures and dossiers), and its fields.
pub(crate) struct DepartmentSpec {
    pub name: &'static str,
    pub size: f64,
    pub fields: &'static [&'static str],
}

/// The 30 provincial departments under the People's Committee. Sizes follow
/// where dossiers go in a real province: driving licences, land, business
/// registration and criminal records dominate.
pub(crate) const DEPARTMENTS: [DepartmentSpec; 30] = [
    DepartmentSpec {
        name: "Sở Nội vụ",
        size: 2.0,
        fields: &["Tổ chức bộ máy", "Thi đua - Khen thưởng"],
    },
    DepartmentSpec {
        name: "Sở Tư pháp",
        size: 5.0,
        fields: &["Lý lịch tư pháp", "Công chứng"],
    },
    DepartmentSpec {
        name: "Sở Kế hoạch và Đầu tư",
        size: 6.0,
        fields: &["Thành lập và hoạt động doanh nghiệp", "Đầu tư tại Việt Nam"],
    },
    DepartmentSpec {
        name: "Sở Tài chính",
        size: 1.5,
        fields: &["Quản lý công sản"],
    },
    DepartmentSpec {
        name: "Sở Công Thương",
        size: 4.0,
        fields: &["Lưu thông hàng hóa trong nước", "Điện"],
    },
    DepartmentSpec {
        name: "Sở Nông nghiệp và Phát triển nông thôn",
        size: 4.0,
        fields: &["Trồng trọt", "Thú y", "Thủy lợi"],
    },
    DepartmentSpec {
        name: "Sở Giao thông vận tải",
        size: 9.0,
        fields: &["Đường bộ"],
    },
    DepartmentSpec {
        name: "Sở Xây dựng",
        size: 4.0,
        fields: &["Hoạt động xây dựng", "Nhà ở"],
    },
    DepartmentSpec {
        name: "Sở Tài nguyên và Môi trường",
        size: 7.0,
        fields: &["Đất đai", "Môi trường", "Tài nguyên nước"],
    },
    DepartmentSpec {
        name: "Sở Thông tin và Truyền thông",
        size: 1.5,
        fields: &["Báo chí"],
    },
    DepartmentSpec {
        name: "Sở Lao động - Thương binh và Xã hội",
        size: 5.0,
        fields: &["Người có công", "Việc làm", "Bảo trợ xã hội"],
    },
    DepartmentSpec {
        name: "Sở Văn hóa, Thể thao và Du lịch",
        size: 3.0,
        fields: &["Văn hóa", "Du lịch"],
    },
    DepartmentSpec {
        name: "Sở Khoa học và Công nghệ",
        size: 1.5,
        fields: &["Hoạt động khoa học và công nghệ"],
    },
    DepartmentSpec {
        name: "Sở Giáo dục và Đào tạo",
        size: 4.0,
        fields: &["Giáo dục và đào tạo"],
    },
    DepartmentSpec {
        name: "Sở Y tế",
        size: 5.0,
        fields: &["Khám bệnh, chữa bệnh", "Dược phẩm"],
    },
    DepartmentSpec {
        name: "Thanh tra tỉnh",
        size: 1.0,
        fields: &["Giải quyết khiếu nại"],
    },
    DepartmentSpec {
        name: "Sở Ngoại vụ",
        size: 1.0,
        fields: &["Ngoại vụ"],
    },
    DepartmentSpec {
        name: "Ban Dân tộc",
        size: 1.0,
        fields: &["Công tác dân tộc"],
    },
    DepartmentSpec {
        name: "Ban Quản lý các khu công nghiệp",
        size: 2.0,
        fields: &["Quản lý khu công nghiệp"],
    },
    DepartmentSpec {
        name: "Công an tỉnh",
        size: 3.0,
        fields: &["Phòng cháy, chữa cháy"],
    },
    DepartmentSpec {
        name: "Bảo hiểm xã hội tỉnh",
        size: 3.0,
        fields: &["Bảo hiểm xã hội"],
    },
    DepartmentSpec {
        name: "Cục Thuế tỉnh",
        size: 3.0,
        fields: &["Thuế"],
    },
    DepartmentSpec {
        name: "Kho bạc Nhà nước tỉnh",
        size: 1.0,
        fields: &["Quản lý công sản"],
    },
    DepartmentSpec {
        name: "Cục Hải quan tỉnh",
        size: 1.0,
        fields: &["Hải quan"],
    },
    DepartmentSpec {
        name: "Cục Quản lý thị trường tỉnh",
        size: 1.0,
        fields: &["Lưu thông hàng hóa trong nước"],
    },
    DepartmentSpec {
        name: "Bộ Chỉ huy Quân sự tỉnh",
        size: 0.8,
        fields: &["Quân sự quốc phòng"],
    },
    DepartmentSpec {
        name: "Ngân hàng Nhà nước chi nhánh tỉnh",
        size: 0.8,
        fields: &["Hoạt động ngân hàng"],
    },
    DepartmentSpec {
        name: "Ban Quản lý dự án đầu tư xây dựng tỉnh",
        size: 0.8,
        fields: &["Hoạt động xây dựng"],
    },
    DepartmentSpec {
        name: "Quỹ Phát triển đất tỉnh",
        size: 0.6,
        fields: &["Đất đai"],
    },
    DepartmentSpec {
        name: "Văn phòng Đoàn ĐBQH và HĐND tỉnh",
        size: 0.5,
        fields: &["Giải quyết khiếu nại"],
    },
];

/// The fields of the provincial People's Committee's own procedures.
pub(crate) const PEOPLES_COMMITTEE_FIELDS: &[&str] = &["Tổ chức bộ máy", "Thi đua - Khen thưởng"];

/// Fields of district-level procedures.
pub(crate) const DISTRICT_FIELDS: &[&str] = &[
    "Hộ tịch",
    "Chứng thực",
    "Đất đai",
    "Hoạt động xây dựng",
    "Thành lập và hoạt động hộ kinh doanh",
    "Người có công",
    "Bảo trợ xã hội",
    "Giáo dục và đào tạo",
    "Văn hóa",
    "Lưu thông hàng hóa trong nước",
    "Tài nguyên nước",
    "Môi trường",
    "Thi đua - Khen thưởng",
    "Nuôi con nuôi",
    "Thủy lợi",
    "Giải quyết khiếu nại",
];

/// Fields of commune-level procedures.
pub(crate) const COMMUNE_FIELDS: &[&str] = &[
    "Hộ tịch",
    "Chứng thực",
    "Đất đai",
    "Người có công",
    "Bảo trợ xã hội",
    "Thi đua - Khen thưởng",
    "Nuôi con nuôi",
    "Văn hóa",
    "Giáo dục và đào tạo",
    "Thủy lợi",
    "Giải quyết khiếu nại",
    "Hoạt động xây dựng",
];

/// Fields whose applicants are mostly organisations (enterprise codes).
pub(crate) const ORGANISATION_FIELDS: &[&str] = &[
    "Thành lập và hoạt động doanh nghiệp",
    "Đầu tư tại Việt Nam",
    "Quản lý khu công nghiệp",
    "Hải quan",
    "Thuế",
    "Hoạt động ngân hàng",
    "Điện",
];

/// The district-level units: the provincial city first, then 11 districts
/// and towns, with how many communes (wards, townships) each has: 193 in all.
pub(crate) const DISTRICTS: [(&str, usize); 12] = [
    ("Thành phố Hòa An", 14),
    ("Thị xã Phúc An", 17),
    ("Huyện Đông Sơn", 15),
    ("Huyện Tây Sơn", 19),
    ("Huyện Nam Giang", 13),
    ("Huyện Bắc Hà", 16),
    ("Huyện Yên Lạc", 18),
    ("Huyện Tam Dương", 14),
    ("Huyện Sông Lô", 17),
    ("Huyện Vĩnh Tường", 16),
    ("Huyện Lập Thạch", 20),
    ("Huyện Kim Bảng", 14),
];

/// Commune names are two syllables, one from each list.
pub(crate) const COMMUNE_FIRST: [&str; 20] = [
    "Đông", "Tây", "Nam", "Bắc", "Trung", "Hưng", "Phú", "An", "Tân", "Vĩnh", "Hợp", "Đại", "Kim",
    "Thanh", "Hoàng", "Minh", "Quang", "Yên", "Bình", "Đồng",
];
pub(crate) const COMMUNE_SECOND: [&str; 20] = [
    "Hòa", "Lợi", "Phú", "Thịnh", "Sơn", "Lâm", "Xuân", "Thái", "Hưng", "Tiến", "Lạc", "Phong",
    "Thành", "Mỹ", "Ninh", "Khê", "Cường", "Hải", "Đức", "Long",
];

pub(crate) const FAMILY_NAMES: [&str; 16] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý",
];
pub(crate) const MIDDLE_NAMES: [&str; 10] = [
    "Văn", "Thị", "Đức", "Minh", "Thanh", "Ngọc", "Quốc", "Hữu", "Thu", "Hoài",
];
pub(crate) const GIVEN_NAMES: [&str; 32] = [
    "An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hoa", "Hùng", "Hương", "Khánh",
    "Lan", "Linh", "Long", "Mai", "Minh", "Nam", "Nga", "Ngọc", "Phúc", "Phương", "Quân", "Sơn",
    "Tâm", "Thảo", "Thắng", "Trang", "Trung", "Tuấn", "Vân", "Yến",
];
pub(crate) const COMPANY_WORDS: [&str; 12] = [
    "Thành Công",
    "Hưng Thịnh",
    "Phú Gia",
    "An Phát",
    "Đại Việt",
    "Minh Long",
    "Hoàng Hà",
    "Tân Tiến",
    "Sao Mai",
    "Bình Minh",
    "Thái Sơn",
    "Hòa Phát",
];

/// What procedures do, and to what: names are "<verb> <object>".
pub(crate) const PROCEDURE_VERBS: [&str; 12] = [
    "Cấp",
    "Cấp lại",
    "Cấp đổi",
    "Gia hạn",
    "Điều chỉnh",
    "Đăng ký",
    "Thẩm định",
    "Công nhận",
    "Phê duyệt",
    "Xác nhận",
    "Cho phép",
    "Thông báo",
];
pub(crate) const PROCEDURE_OBJECTS: [&str; 12] = [
    "giấy phép",
    "giấy chứng nhận",
    "hồ sơ",
    "chứng chỉ",
    "văn bản chấp thuận",
    "quyết định",
    "hồ sơ đề nghị",
    "giấy xác nhận",
    "phương án",
    "kết quả",
    "bản sao",
    "thông tin",
];
