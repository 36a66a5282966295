import BatchCore
import Testing

@Suite("E-mail address rules")
struct EmailAddressTests {
    @Test(
        "each address gets the problem a person would name, or none",
        arguments: [
            ("chan.wing@school.edu", nil), ("A.B-c_d+e@Sub.School-1.EDU", nil), ("josé@school.edu", nil), ("x@y.z", nil),
            ("a..b@school.edu", "email_bad_local_part"), (".a@school.edu", "email_bad_local_part"),
            ("a.@school.edu", "email_bad_local_part"), ("a@-school.edu", "email_bad_domain"),
            ("a@school-.edu", "email_bad_domain"), ("a@school..edu", "email_bad_domain"), ("a@school", "email_bad_domain"),
            ("a@school.edu.", "email_bad_domain"), ("a@sch_ool.edu", "email_bad_domain"), ("a@@school.edu", "email_many_at"),
            ("a b@school.edu", "email_space"), ("a\tb@school.edu", "email_space"), ("a\nb@school.edu", "email_line_break"),
            ("@school.edu", "email_no_local_part"), ("a@", "email_no_domain"), ("school.edu", "email_missing_at"),
            ("a@schöol.edu", "email_domain_not_ascii"), (String(repeating: "a", count: 65) + "@school.edu", "email_too_long"),
            ("a@" + String(repeating: "b", count: 250) + ".edu", "email_too_long"),
        ] as [(String, String?)])
    func problems(address: String, code: String?) {
        #expect(EmailAddress.problem(with: address)?.code == code)
    }
}
