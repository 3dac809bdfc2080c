namespace VaeLab.Cli;

/// <summary>An <see cref="IProgress{T}"/> that reports synchronously on the caller's thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
internal sealed class Reporter<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
