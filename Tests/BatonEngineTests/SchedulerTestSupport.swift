// What the scheduler tests share: one step with made-up sampled tokens.

@testable import BatonEngine

/// One step with every sampling request getting `token`.
@discardableResult
func step(_ s: inout Scheduler, token: Int32 = 99) -> (SchedulerOutput, [RequestUpdate]) {
    let out = s.schedule()
    var sampled: [String: Int32] = [:]
    for r in out.scheduled where r.samples { sampled[r.requestId] = token }
    return (out, s.updateFromOutput(out, sampled: sampled))
}
