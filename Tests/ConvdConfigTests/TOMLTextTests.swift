// TOMLText: the pre-scan in front of TOMLKit. Each fuzz crasher (toml++ stopping the process
// on an assertion) is refused with a line, a column and a message, by the daemon config and the
// architecture reader alike; valid TOML of every value form still parses.
import ConvdConfig
import Testing

/// The config error's single issue, as `location: message`.
private func configIssue(_ text: String) -> String? {
    do {
        _ = try DaemonConfig.parse(text, file: "/nonexistent/convd.toml")
        return nil
    } catch {
        return error.issues.first?.description
    }
}

private func architectureError(_ text: String) -> String? {
    do {
        _ = try ArchitectureFile.parse(text, path: "a.toml")
        return nil
    } catch {
        return error.description
    }
}

@Suite("TOML pre-scan (fuzz crashers)")
struct TOMLTextTests {
    @Test("fuzz crasher: a date-time whose time starts with a letter (toml++ parse_time asserted)")
    func dateTimeWithLetters() {
        let text = "a = 1979-05-27Txx:00\n"
        #expect(configIssue(text) == "line 1, column 5: malformed date or time \"1979-05-27Txx:00\" "
                + "(expected e.g. 07:32:00, 1979-05-27T07:32:00 or 1979-05-27T07:32:00Z)")
        #expect(architectureError("name = \"n\"\n" + text)?.hasPrefix("a.toml: line 2, column 5: malformed date") == true)
        #expect(configIssue("[daemon]\nx = [1, 2000-01-01t:]\n")?.hasPrefix("line 2, column 9: malformed date") == true)
        #expect(configIssue("odt1 = 1979-04-27T(07:32:00Z\n") == "line 1, column 8: malformed date or time "
                + "\"1979-04-27T(07:32:00Z\" (expected e.g. 07:32:00, 1979-05-27T07:32:00 or 1979-05-27T07:32:00Z)")
        #expect(configIssue("x = { y = 1979-05-27T1: }")?.contains("malformed date or time \"1979-05-27T1:\"") == true)
    }

    @Test("fuzz crasher: a table header that does not start with a key (toml++ parse_key asserted)")
    func tableHeaderWithoutKey() {
        let message = "a table header needs a key after \"[\" (e.g. [daemon] or [[watch]])"
        #expect(configIssue("[(aemon]\nworkers = 2\n") == "line 1, column 2: \(message), found \"(\"")
        #expect(configIssue("[[[watch]]]\n") == "line 1, column 3: \(message), found \"[\"")
        #expect(configIssue("workers = 2\n[\n") == "line 2, column 2: \(message), found the end of the line")
        #expect(configIssue("[[ \t\n") == "line 1, column 5: \(message), found the end of the line")
        #expect(architectureError("[(input]\n")?.hasPrefix("a.toml: line 1, column 2: a table header needs a key") == true)
    }

    @Test("fuzz crasher: a local date, a space and one digit (toml++ parse_value's scan asserted)")
    func spacedDateTime() {
        #expect(configIssue("a = 1979-05-27 1\n") == "line 1, column 5: malformed date-time \"1979-05-27 1\" "
                + "(expected e.g. 1979-05-27 07:32:00)")
        #expect(configIssue("x = [1979-05-27 0]:32:00Z]")?.hasPrefix("line 1, column 6: malformed date-time") == true)
        #expect(configIssue("x = 1979-05-2_7 1,")?.hasPrefix("line 1, column 5: malformed date-time") == true)
        #expect(architectureError("[input]\nchannels =1979-05-27 1\n")?
            .hasPrefix("a.toml: line 2, column 11: malformed date-time") == true)
        #expect(configIssue("a = 1979-05-27 07:32:00\nb = 1979-05-27 07:32:00.5+01:00")?.hasPrefix("a: unknown key") == true)
        // Found by the 1M-execution runs: toml++ takes anything of ten characters with a
        // leading digit and dashes at [4] and [7] for a date, letters and U+FFFD included.
        #expect(configIssue("odt3 = 1A79-05-27 7 l\n")?.hasPrefix("line 1, column 8: malformed date-time \"1A79-05-27 7\"")
                == true)
        #expect(architectureError("no = 9\u{FFFD}\u{FFFD}------= 4 -----d-\u{FFFD}\u{FFFD}")?
            .hasPrefix("a.toml: line 1, column 6: malformed date-time") == true)
    }

    @Test("crasher (from reading toml++ after the fuzz finds): a value starting at a terminator in an array")
    func arrayValueTerminator() {
        #expect(configIssue("a = [}]\n") == "line 1, column 6: \"}\" inside an array (expected a value or \"]\")")
        #expect(configIssue("a = [\u{2028}]\n") == "line 1, column 6: U+2028 (a non-ASCII space or line break) "
                + "outside a string or comment")
        #expect(configIssue("a = [1,\u{85}2]\n")?.hasPrefix("line 1, column 8: U+85 ") == true)
        #expect(configIssue("\u{FEFF}a = \"\u{2028}\" # \u{3000}\n")?.hasPrefix("a: unknown key") == true)
    }

    @Test("fuzz timeout: a vertical tab or form feed where a value starts (the pre-scan looped)")
    func verticalTabValue() {
        #expect(configIssue("a = \u{0B}1\n")?.hasPrefix("line 1, column ") == true)
        #expect(configIssue("a = [\u{0C}]\n")?.hasPrefix("line 1, column ") == true)
    }

    @Test("every TOML value form still reaches TOMLKit")
    func validForms() throws {
        let text = """
            # dates, times, numbers, strings, arrays and tables of every spelling
            odt1 = 1979-05-27T07:32:00Z
            odt2 = 1979-05-27T00:32:00.999999-07:00
            odt3 = 1979-05-27 07:32:00Z
            odt4 = 1979-05-27t07:32:00+01:30
            ldt = 1979-05-27T07:32:00
            ld = 1979-05-27
            lt1 = 07:32:00
            lt2 = 00:32:00.999999
            int = [+99, -17, 1_000, 0xDEAD_beef, 0o755, 0b1101]
            flt = [6.626e-34, -0.01, inf, -nan, 5e+22]
            "quoted [key" = "a [ string: 1979-05-27Txx:00 ]"
            'lit' = '[(not a header'
            mls = \"\"\"
            [(inside a string
            1979-05-27Txx\"\"\"
            mll = '''
            [(also inside'''
            nested = [ [1, 2], [
              [3], # [( a comment
              { x = [4] },
            ] ]
            [ "quoted header" ]
            [a.b."c d"]
            [[ e ]]
            [[_-9]]
            """
        let table = try TOMLText.table(text)
        #expect(table.keys.contains("odt3") && table.keys.contains("quoted header") && table.keys.contains("_-9"))
    }

    @Test("syntax errors keep toml++'s line and column")
    func syntaxErrors() {
        #expect(configIssue("a = \"unterminated\n")?.hasPrefix("line 1, column ") == true)
        #expect(configIssue("[ [watch]]\n")?.hasPrefix("line 1, column ") == true)
    }
}
