// Stop strings across token boundaries, held back and never released.

import BatonEngine
import Testing

@Suite struct StopCheckerTests {
    @Test func aStopStringSplitAcrossPiecesIsCutAndNeverReleased() {
        var s = StopChecker(stopStrings: ["STOP", "\n\n"])
        var out = ""
        var stopped: String?
        for piece in ["Hello", " wor", "ld ST", "O", "P and more"] {
            let r = s.append(piece)
            out += r.text
            if let hit = r.stopped { stopped = hit; break }
        }
        #expect(out == "Hello world ")
        #expect(stopped == "STOP")
    }

    @Test func textThatOnlyLooksLikeAStartIsReleasedLater() {
        var s = StopChecker(stopStrings: ["STOP"])
        #expect(s.append("a ST").text == "a ", "only the tail that may begin STOP waits")
        #expect(s.append("ART").text == "START")
        #expect(s.append(" ST").text == " ")
        #expect(s.flush() == "ST")
    }

    @Test func aMultiByteStartOfAStopStringWaitsWhole() {
        var s = StopChecker(stopStrings: ["€x"])
        let r = s.append("é€")
        #expect(r.text == "é")
        #expect(s.flush() == "€")
    }

    @Test func noStopStringsReleasesEverything() {
        var s = StopChecker(stopStrings: [])
        #expect(s.append("abc").text == "abc")
    }
}
