// Block pool and prefix cache: exact block ids and free-queue order, no model, no threads.

import BatonEngine
import BatonModel
import Testing

@Suite struct BlockPoolTests {
    @Test func freeQueueTakesFromTheFrontAndReturnsToTheBack() {
        var pool = BlockPool(blockCount: 5)
        #expect(pool.takeNewBlocks(2) == [0, 1])
        #expect(pool.freeQueue.ids == [2, 3, 4])
        pool.free([1, 0])
        #expect(pool.freeQueue.ids == [2, 3, 4, 1, 0])
        #expect(pool.takeNewBlocks(6) == nil)
        #expect(pool.freeBlockCount == 5, "a failed take changes nothing")
    }

    @Test func touchingAFreeCachedBlockPullsItOutOfTheQueue() {
        var pool = BlockPool(blockCount: 4)
        let blocks = pool.takeNewBlocks(2)!
        let h = BlockHash(parent: nil, tokens: [1, 2, 3, 4] as [Int32])
        pool.cache(blocks[0], hash: h)
        pool.free(blocks.reversed())
        #expect(pool.freeQueue.ids == [2, 3, 1, 0])
        #expect(pool.cachedBlock(h) == 0)
        pool.touch([0])
        #expect(pool.refCount(0) == 1)
        #expect(pool.freeQueue.ids == [2, 3, 1])
    }

    @Test func reuseEvictsTheOldestCachedBlockFirst() {
        var pool = BlockPool(blockCount: 3)
        let hashes = (0..<3).map { BlockHash(parent: nil, tokens: [Int32($0)]) }
        let blocks = pool.takeNewBlocks(3)!
        for (b, h) in zip(blocks, hashes) { pool.cache(b, hash: h) }
        pool.free([2])
        pool.free([0])
        pool.free([1])
        #expect(pool.freeQueue.ids == [2, 0, 1])
        #expect(pool.takeNewBlocks(1) == [2])
        #expect(pool.cachedBlock(hashes[2]) == nil, "block 2 was evicted when reused")
        #expect(pool.cachedBlock(hashes[0]) == 0)
        #expect(pool.cachedBlockCount == 2)
    }

    @Test func chainedHashesDependOnTheWholePrefixAndTheSalt() {
        let a = BlockHash(parent: nil, tokens: [1, 2] as [Int32])
        let b = BlockHash(parent: nil, tokens: [1, 3] as [Int32])
        #expect(BlockHash(parent: a, tokens: [5, 6] as [Int32]) != BlockHash(parent: b, tokens: [5, 6] as [Int32]))
        #expect(BlockHash(parent: nil, tokens: [1, 2] as [Int32], salt: "s") != a)
        #expect(BlockHash(parent: nil, tokens: [1, 2] as [Int32]) == a, "stable")
        var hashes: [BlockHash] = []
        BlockHash.extend(&hashes, tokens: [1, 2, 5, 6, 7], blockSize: 2, salt: nil)
        #expect(hashes == [a, BlockHash(parent: a, tokens: [5, 6] as [Int32])])
    }
}
