using System.Runtime.ExceptionServices;
using VaeLab.Runtime;

namespace VaeLab.Training;

/// <summary>
/// A fixed set of threads that run one piece of work per shard together: the calling thread takes shard 0, dedicated
/// threads the others, and <see cref="Run"/> returns when all are done. Each dedicated thread keeps its own libtorch
/// intra-op setting (<c>torch.set_num_threads</c> acts on the calling thread), so every shard runs single- or
/// few-threaded kernels on its own core, and what one shard writes stays in that core's caches.
/// </summary>
/// <remarks>
/// A step of the reference recipe lasts a few milliseconds and calls <see cref="Run"/> three times, so waking the
/// workers must cost microseconds: a worker spins briefly on the start signal before it blocks.
/// </remarks>
internal sealed class ShardWorkers : IDisposable
{
    readonly Thread[] threads;
    readonly ManualResetEventSlim[] start;
    readonly CountdownEvent done;
    readonly Exception?[] errors;
    Action<int>? work;
    volatile bool stopping;

    /// <summary>Starts <paramref name="shards"/> − 1 worker threads, each with libtorch set to <paramref name="threadsPerShard"/> threads.</summary>
    public ShardWorkers(int shards, int threadsPerShard)
    {
        if (shards < 2) throw new ArgumentOutOfRangeException(nameof(shards), shards, "Shard workers are for two or more shards.");
        Shards = shards;
        errors = new Exception?[shards];
        start = Enumerable.Range(0, shards).Select(_ => new ManualResetEventSlim(false, spinCount: 2047)).ToArray();
        done = new CountdownEvent(shards - 1);
        threads = new Thread[shards - 1];
        // libtorch also keeps the last set_num_threads in a process-wide value that threads new to it start from: once the
        // workers have set theirs, the caller's is put back, so threads started later (a notebook's, the evaluator's) are not
        // left single-threaded.
        using var restore = TorchThreads.Keep();
        using var ready = new CountdownEvent(shards - 1);
        for (int s = 1; s < shards; s++)
        {
            int shard = s;
            threads[s - 1] = new Thread(() => Loop(shard, threadsPerShard, ready)) { IsBackground = true, Name = $"VaeLab shard {shard}" };
            threads[s - 1].Start();
        }
        ready.Wait();
    }

    /// <summary>Number of shards, the calling thread's included.</summary>
    public int Shards { get; }

    /// <summary>Runs <paramref name="action"/>(s) for every shard s at once; rethrows the first shard's failure.</summary>
    public void Run(Action<int> action)
    {
        ObjectDisposedException.ThrowIf(stopping, this);
        foreach (Exception? error in errors)
            if (error is not null) ExceptionDispatchInfo.Capture(error).Throw();   // a worker that could not start
        work = action;
        for (int s = 1; s < Shards; s++) start[s].Set();
        try { action(0); }
        catch (Exception e) { errors[0] = e; }
        done.Wait();
        done.Reset();
        work = null;
        Exception? first = errors.FirstOrDefault(e => e is not null);
        Array.Clear(errors);
        if (first is not null) ExceptionDispatchInfo.Capture(first).Throw();
    }

    void Loop(int shard, int threadsPerShard, CountdownEvent ready)
    {
        try { _ = TorchThreads.Use(threadsPerShard); }   // for the worker's whole life: not restored
        catch (Exception e) { errors[shard] = e; }   // reported by the first Run
        ready.Signal();
        while (true)
        {
            start[shard].Wait();
            start[shard].Reset();
            if (stopping) return;
            try { work!(shard); }
            catch (Exception e) { errors[shard] = e; }
            done.Signal();
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        if (stopping) return;
        stopping = true;
        for (int s = 1; s < Shards; s++) start[s].Set();
        foreach (Thread thread in threads) thread.Join();
        foreach (var signal in start) signal.Dispose();
        done.Dispose();
    }
}
