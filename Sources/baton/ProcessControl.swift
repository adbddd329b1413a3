// What a replica started by `baton serve` does to itself: pin every thread to its cores
// (`--cpu-affinity`), and exit if the supervisor that started it is gone (BATON_PARENT_PID).

import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

enum ProcessControl {
    /// `0,2-3` → [0, 2, 3].
    static func parseCPUList(_ text: String) throws -> [Int] {
        var cpus: [Int] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard (1...2).contains(bounds.count), bounds.allSatisfy({ $0 != nil && $0! >= 0 && $0! < 1024 }),
                  let lo = bounds.first!, let hi = bounds.last!, lo <= hi else {
                throw ValidationError("--cpu-affinity '\(text)' is not a CPU list (e.g. 0 or 0,2-3)")
            }
            cpus += Array(lo...hi)
        }
        guard !cpus.isEmpty else { throw ValidationError("--cpu-affinity names no CPU") }
        return cpus
    }

    /// Pins every thread of this process (and so every thread it starts later) to `cpus`.
    static func pin(to cpus: [Int]) throws {
        #if os(Linux)
        var mask = [UInt8](repeating: 0, count: cpuMaskBytes)
        for cpu in cpus where cpu / 8 < mask.count { mask[cpu / 8] |= UInt8(1 << (cpu % 8)) }
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? ["0"]
        for task in tasks {
            guard let tid = Int32(task) else { continue }
            if linuxSchedSetaffinity(tid, mask.count, mask) != 0 {
                throw ValidationError("--cpu-affinity \(cpus): sched_setaffinity failed (errno \(errno))")
            }
        }
        #endif
    }

    /// The CPUs this process may run on (its affinity mask), in order.
    static func allowedCPUs() -> [Int] {
        #if os(Linux)
        var mask = [UInt8](repeating: 0, count: cpuMaskBytes)
        if linuxSchedGetaffinity(0, mask.count, &mask) == 0 {
            let cpus = (0..<(mask.count * 8)).filter { mask[$0 / 8] & UInt8(1 << ($0 % 8)) != 0 }
            if !cpus.isEmpty { return cpus }
        }
        #endif
        return Array(0..<ProcessInfo.processInfo.activeProcessorCount)
    }

    /// glibc's cpu_set_t: 1,024 CPUs, one bit each.
    static let cpuMaskBytes = 128

    /// When started by `baton serve` (BATON_PARENT_PID set): exits once that process is no
    /// longer this one's parent, so a killed supervisor leaves no engine behind.
    static func exitWithParent(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let text = environment["BATON_PARENT_PID"], let parent = Int32(text), parent > 1 else { return }
        let thread = Thread {
            while getppid() == parent { usleep(200_000) }
            FileHandle.standardError.write(Data("parent \(parent) is gone; exiting\n".utf8))
            exit(0)
        }
        thread.start()
    }
}

#if os(Linux)
// glibc's affinity calls (declared only under _GNU_SOURCE, which the Glibc module does not set).
@_silgen_name("sched_setaffinity") private func linuxSchedSetaffinity(_ pid: Int32, _ size: Int, _ mask: UnsafeRawPointer) -> Int32
@_silgen_name("sched_getaffinity") private func linuxSchedGetaffinity(_ pid: Int32, _ size: Int, _ mask: UnsafeMutableRawPointer) -> Int32
#endif
