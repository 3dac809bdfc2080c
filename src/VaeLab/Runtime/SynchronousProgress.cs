namespace VaeLab.Runtime;

/// <summary>
/// An <see cref="IProgress{T}"/> that calls its action at once on the reporting thread (the framework's
/// <see cref="Progress{T}"/> posts to a synchronisation context, so reports may arrive late, out of order or never in a
/// console or notebook). Every progress adapter in VaeLab is this one.
/// </summary>
/// <typeparam name="T">What is reported.</typeparam>
/// <param name="report">Called with each report.</param>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    /// <inheritdoc/>
    public void Report(T value) => report(value);
}
