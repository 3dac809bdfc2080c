using static TorchSharp.torch;

namespace VaeLab.Runtime;

/// <summary>
/// The one way VaeLab changes libtorch's intra-op thread count for a while. <c>set_num_threads</c> acts on the calling thread
/// and also becomes the process-wide count that threads new to libtorch start from, so every change is undone when its scope
/// ends: a notebook's or the evaluator's threads are never left with a count that training chose.
/// </summary>
public static class TorchThreads
{
    /// <summary>Runs the calling thread's kernels on <paramref name="threads"/> libtorch threads until the scope is disposed, then restores the count before it.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is less than 1.</exception>
    public static Scope Use(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        int previous = get_num_threads();
        if (threads == previous) return new Scope(previous, restore: false);   // nothing to undo (a step inside training's own scope)
        set_num_threads(threads);
        return new Scope(previous, restore: true);
    }

    /// <summary>Restores the current count when disposed, whatever the code inside the scope (or threads it started) set.</summary>
    public static Scope Keep() => new(get_num_threads(), restore: true);

    /// <summary>A thread-count change that is undone on <see cref="Dispose"/>.</summary>
    public readonly struct Scope : IDisposable
    {
        readonly bool restore;

        internal Scope(int previous, bool restore) => (Previous, this.restore) = (previous, restore);

        /// <summary>The count in force before the scope began, restored on <see cref="Dispose"/>.</summary>
        public int Previous { get; }

        /// <summary>Sets the count back to <see cref="Previous"/> (for the calling thread and as the process-wide value).</summary>
        public void Dispose()
        {
            if (restore) set_num_threads(Previous);
        }
    }
}
