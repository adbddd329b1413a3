// The fast lane's connection state (FastLaneConnection.swift) driven without a socket: exact
// actions for each event, as FastLane carries them out.

@testable import BatonRouter
import Foundation
import NIOCore
import NIOHTTP1
import Testing

extension FastLaneConnection.ReadAction: Equatable {
    public static func == (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.none, .none): true
        case (.forward(let x), .forward(let y)): x == y
        case (.passOversized(let h1, let b1, let c1), .passOversized(let h2, let b2, let c2)): h1 == h2 && b1 == b2 && c1 == c2
        case (.decide(let h1, let k1, let b1), .decide(let h2, let k2, let b2)): h1 == h2 && k1 == k2 && b1 == b2
        default: false
        }
    }
}

extension FastLaneConnection.DrainAction: Equatable {
    public static func == (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.fireReadComplete, .fireReadComplete), (.read, .read), (.fireQuiesce, .fireQuiesce): true
        case (.fireError(let x), .fireError(let y)): "\(x)" == "\(y)"
        default: false
        }
    }
}

/// The state behind a reference, so its events can be sent inside `#expect`.
final class Connection {
    var s: FastLaneConnection
    init(maxBodyBytes: Int) { s = FastLaneConnection(maxBodyBytes: maxBodyBytes) }
    func read(_ part: HTTPServerRequestPart) -> FastLaneConnection.ReadAction { s.read(part) }
    func take(_ part: HTTPServerRequestPart) -> FastLaneConnection.ReadAction { s.take(part) }
    func readComplete() -> Bool { s.readComplete() }
    func quiesce() -> Bool { s.quiesce() }
    func decoderFailed(_ error: any Error) -> Bool { s.decoderFailed(error) }
    func closed() -> Bool { s.closed() }
    func readRequested() -> Bool { s.readRequested() }
    func passedAnswerEnded() { s.passedAnswerEnded() }
    func relayStarted() { s.relayStarted() }
    func relayEnded() { s.relayEnded() }
    func handedOver() { s.handedOver() }
    func beginDrain() -> Bool { s.beginDrain() }
    func nextQueued() -> HTTPServerRequestPart? { s.nextQueued() }
    func endDrain(took: Bool) -> [FastLaneConnection.DrainAction] { s.endDrain(took: took) }
    var queued: CircularBuffer<HTTPServerRequestPart> { s.queued }
    var passedAnswers: Int { s.passedAnswers }
    var relaying: Bool { s.relaying }
}

@Suite struct FastLaneConnectionTests {
    static func post(_ uri: String = "/v1/completions", version: HTTPVersion = .http1_1) -> HTTPRequestHead {
        HTTPRequestHead(version: version, method: .POST, uri: uri)
    }

    static let get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/health")
    static func bytes(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }
    struct DecoderError: Error, CustomStringConvertible { var description: String { "garbage" } }

    @Test func ourRequestIsReadWholeThenDecided() {
        let s = Connection(maxBodyBytes: 100)
        #expect(s.read(.head(Self.post())) == .none)
        #expect(s.read(.body(Self.bytes(#"{"prompt":"#))) == .none)
        #expect(s.read(.body(Self.bytes(#""hi"}"#))) == .none)
        #expect(s.read(.end(nil)) == .decide(Self.post(), .completion, Self.bytes(#"{"prompt":"hi"}"#)))
        #expect(!s.readComplete(), "nothing went to Hummingbird: its read completion is not passed on")
        #expect(s.read(.head(Self.post("/v1/chat/completions"))) == .none)
        #expect(s.read(.end(nil)) == .decide(Self.post("/v1/chat/completions"), .chat, ByteBuffer()))
    }

    @Test func otherRequestsPassUntouched() {
        let s = Connection(maxBodyBytes: 100)
        #expect(s.read(.head(Self.get)) == .forward(.head(Self.get)))
        #expect(s.read(.end(nil)) == .forward(.end(nil)))
        #expect(s.readComplete() && !s.readComplete(), "passed on once per read that forwarded")
        // Hummingbird owes an answer: even an OpenAI POST is its, so answers keep their order.
        #expect(s.read(.head(Self.post())) == .forward(.head(Self.post())))
        #expect(s.read(.body(Self.bytes("{}"))) == .forward(.body(Self.bytes("{}"))))
        #expect(s.read(.end(nil)) == .forward(.end(nil)))
        s.passedAnswerEnded()
        #expect(s.passedAnswers == 1)
        s.passedAnswerEnded()
        #expect(s.read(.head(Self.post())) == .none, "nothing owed: the lane's again")
        // HTTP/1.0 is Hummingbird's.
        let old = Connection(maxBodyBytes: 100)
        #expect(old.read(.head(Self.post(version: .http1_0))) == .forward(.head(Self.post(version: .http1_0))))
    }

    /// A request with two `Authorization` fields is Hummingbird's: it joins them and checks the
    /// join (a 401 when keys are set), where the lane would have seen only the first.
    @Test func aRequestWithRepeatedAuthorizationIsHummingbirds() {
        var head = Self.post()
        head.headers.add(name: "Authorization", value: "Bearer k")
        head.headers.add(name: "authorization", value: "Bearer other")
        let s = Connection(maxBodyBytes: 100)
        #expect(s.read(.head(head)) == .forward(.head(head)))
        #expect(s.read(.end(nil)) == .forward(.end(nil)))
        #expect(s.passedAnswers == 1)
        var one = Self.post()
        one.headers.add(name: "Authorization", value: "Bearer k")
        let t = Connection(maxBodyBytes: 100)
        #expect(t.read(.head(one)) == .none, "one field: the lane's")
    }

    /// `x-baton-handoff` names the lane's handoffs (Handoff.swift): a client's copy is stripped
    /// from every head, passed through or read whole.
    @Test func aClientsHandoffHeaderIsStripped() {
        var sent = Self.get
        sent.headers.add(name: "X-Baton-Handoff", value: "1")
        sent.headers.add(name: "Host", value: "x")
        var stripped = Self.get
        stripped.headers.add(name: "Host", value: "x")
        let s = Connection(maxBodyBytes: 100)
        #expect(s.read(.head(sent)) == .forward(.head(stripped)))
        #expect(s.read(.end(nil)) == .forward(.end(nil)))
        var post = Self.post()
        post.headers.add(name: "x-baton-handoff", value: "1")
        #expect(s.read(.head(post)) == .forward(.head(Self.post())), "passed through while an answer is owed")
        #expect(s.read(.end(nil)) == .forward(.end(nil)))
        let t = Connection(maxBodyBytes: 100)
        #expect(t.read(.head(post)) == .none)
        #expect(t.read(.end(nil)) == .decide(Self.post(), .completion, ByteBuffer()))
        // A head while a passed request's body is arriving (NIO's decoder makes none, but the
        // rule holds for every head): stripped too.
        let u = Connection(maxBodyBytes: 100)
        #expect(u.read(.head(sent)) == .forward(.head(stripped)))
        #expect(u.read(.head(sent)) == .forward(.head(stripped)), "a head in the passing state")
    }

    /// A handoff is taken only by the request whose `x-baton-handoff` names it; a request
    /// without it (one passed through behind a request Hummingbird answered itself) leaves it.
    @Test func aHandoffIsTakenOnlyByTheRequestItNames() throws {
        let slot = HandoffSlot()
        let body = try ProxyBody(Data(#"{"prompt":"a"}"#.utf8))
        let handoff = Handoff(
            kind: .completion, body: body, routing: RoutingRequest(tokens: [1], blockSize: 16, salt: nil, session: nil),
            decided: nil, received: .now())
        slot.put(handoff, id: "1")
        #expect(slot.take(nil) == nil)
        #expect(slot.take("2") == nil)
        #expect(slot.take("1")?.kind == .completion)
        #expect(slot.take("1") == nil, "taken once")
        slot.put(handoff, id: "2")
        #expect(slot.takeAny() != nil && slot.takeAny() == nil)
    }

    @Test func aBodyOverTheLimitGoesToHummingbirdWithWhatCameBefore() {
        let s = Connection(maxBodyBytes: 10)
        #expect(s.read(.head(Self.post())) == .none)
        #expect(s.read(.body(Self.bytes("123456"))) == .none)
        #expect(s.read(.body(Self.bytes("789012"))) == .passOversized(Self.post(), Self.bytes("123456"), Self.bytes("789012")))
        #expect(s.read(.body(Self.bytes("rest"))) == .forward(.body(Self.bytes("rest"))))
        #expect(s.read(.end(nil)) == .forward(.end(nil)))
        #expect(s.passedAnswers == 1 && s.readComplete())
    }

    /// A pipelining client: the second request's parts wait while the first is answered, and
    /// reading stops; then they are taken in order and the held read is done.
    @Test func pipelinedPartsWaitForTheAnswerGoingOut() {
        let s = Connection(maxBodyBytes: 100)
        _ = s.read(.head(Self.post()))
        #expect(s.read(.end(nil)) == .decide(Self.post(), .completion, ByteBuffer()))
        s.relayStarted()
        #expect(s.read(.head(Self.get)) == .none)
        #expect(s.read(.end(nil)) == .none)
        #expect(s.read(.head(Self.post())) == .none)
        #expect(s.queued.count == 3)
        #expect(!s.readRequested(), "no more reading while parts wait")
        // Nothing is taken while the answer goes out.
        #expect(s.beginDrain() && s.nextQueued() == nil)
        #expect(s.endDrain(took: false) == [])
        s.relayEnded()
        #expect(s.beginDrain())
        #expect(!s.beginDrain(), "a relay that ends inside the take does not take again")
        #expect(s.nextQueued() == .head(Self.get))
        #expect(s.take(.head(Self.get)) == .forward(.head(Self.get)))
        #expect(s.nextQueued() == .end(nil))
        #expect(s.take(.end(nil)) == .forward(.end(nil)))
        // The third is Hummingbird's too: it owes the GET's answer.
        #expect(s.nextQueued() == .head(Self.post()))
        #expect(s.take(.head(Self.post())) == .forward(.head(Self.post())))
        #expect(s.nextQueued() == nil)
        #expect(s.endDrain(took: true) == [.fireReadComplete, .read])
        #expect(s.readRequested())
    }

    /// A part of a second request of ours that waited is decided when taken; what waits behind
    /// it waits again for that answer.
    @Test func aQueuedRequestOfOursStartsTheNextRelay() {
        let s = Connection(maxBodyBytes: 100)
        _ = s.read(.head(Self.post()))
        _ = s.read(.end(nil))
        s.relayStarted()
        for part in [HTTPServerRequestPart.head(Self.post()), .end(nil), .head(Self.get), .end(nil)] { #expect(s.read(part) == .none) }
        s.relayEnded()
        #expect(s.beginDrain())
        #expect(s.take(s.nextQueued()!) == .none)
        #expect(s.take(s.nextQueued()!) == .decide(Self.post(), .completion, ByteBuffer()))
        s.relayStarted()
        #expect(s.nextQueued() == nil, "the GET waits for the second answer")
        #expect(s.endDrain(took: true) == [.fireReadComplete])
        #expect(s.queued.count == 2)
    }

    /// The server quiesces while an answer of ours goes out: passed on once it has ended.
    @Test func aQuiesceWaitsForTheAnswer() {
        let s = Connection(maxBodyBytes: 100)
        #expect(s.quiesce(), "nothing going on: at once")
        _ = s.read(.head(Self.post()))
        #expect(!s.quiesce(), "a request of ours half read")
        _ = s.read(.end(nil))
        s.relayStarted()
        #expect(!s.quiesce())
        s.relayEnded()
        #expect(s.beginDrain() && s.nextQueued() == nil)
        #expect(s.endDrain(took: false) == [.fireQuiesce])
        #expect(s.beginDrain() && s.endDrain(took: false) == [], "once")
    }

    /// The decoder fails on bytes after a request whose answer is owed: the error waits for it
    /// (Hummingbird's 400 must not overtake it), then goes on.
    @Test func aDecoderErrorAfterAnOwedAnswerWaits() {
        let s = Connection(maxBodyBytes: 100)
        #expect(s.decoderFailed(DecoderError()), "nothing owed: at once")
        _ = s.read(.head(Self.post()))
        _ = s.read(.end(nil))
        s.relayStarted()
        #expect(!s.decoderFailed(DecoderError()))
        #expect(s.beginDrain() && s.endDrain(took: false) == [], "still answering")
        s.relayEnded()
        #expect(s.beginDrain() && s.nextQueued() == nil)
        #expect(s.endDrain(took: false) == [.fireError(DecoderError())])
    }

    /// A decode that failed before its first byte: the request goes to Hummingbird whole, and
    /// from then on Hummingbird owes an answer, so what waited is its too.
    @Test func aFailedRelayIsHandedOver() {
        let s = Connection(maxBodyBytes: 100)
        _ = s.read(.head(Self.post()))
        _ = s.read(.end(nil))
        s.relayStarted()
        #expect(s.read(.head(Self.post())) == .none)
        s.relayEnded()
        s.handedOver()
        #expect(s.passedAnswers == 1)
        #expect(s.beginDrain())
        #expect(s.take(s.nextQueued()!) == .forward(.head(Self.post())))
        #expect(s.endDrain(took: true) == [.fireReadComplete])
    }

    @Test func theClientLeavingDropsTheQueueAndTheAnswer() {
        let s = Connection(maxBodyBytes: 100)
        _ = s.read(.head(Self.post()))
        _ = s.read(.end(nil))
        s.relayStarted()
        _ = s.read(.head(Self.get))
        #expect(s.closed(), "an answer of ours was going out")
        #expect(!s.relaying && s.queued.isEmpty && !s.closed())
    }
}
