// The engine loop as a `Service`: it runs on a thread of its own (the forward pass blocks for
// milliseconds and must not hold a cooperative thread). Graceful shutdown stops admission and
// lets the loop finish what is running; cancellation aborts everything.

import Foundation
import ServiceLifecycle

public struct EngineService: Service {
    public let engine: LLMEngine

    public init(engine: LLMEngine) { self.engine = engine }

    public func run() async throws {
        let engine = self.engine
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    let thread = Thread {
                        engine.runLoop()
                        done.resume()
                    }
                    thread.name = "baton-engine"
                    thread.stackSize = 8 << 20
                    thread.start()
                }
            } onGracefulShutdown: {
                engine.drain()
            }
        } onCancel: {
            engine.stop()
        }
    }
}
