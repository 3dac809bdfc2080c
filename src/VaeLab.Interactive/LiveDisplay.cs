using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;

namespace VaeLab.Interactive;

/// <summary>
/// One notebook output that is replaced in place: shown through the invocation context (whose updates carry the id of
/// the output they replace; <c>display(x).Update</c> in this kernel build does not), updated at most every
/// <see cref="Interval"/> except for the final state.
/// </summary>
sealed class LiveDisplay
{
    static readonly TimeSpan Interval = TimeSpan.FromSeconds(0.5);
    readonly DisplayedValue? displayed;
    readonly object gate = new();
    DateTime last = DateTime.MinValue;
    bool collected;

    public LiveDisplay(LiveView view)
    {
        View = view;
        Context = KernelInvocationContext.Current;
        displayed = Context?.Display(view, HtmlFormatter.MimeType);
    }

    public LiveView View { get; }

    /// <summary>The cell's invocation (null outside a kernel): its cancellation token is the notebook's stop button.</summary>
    KernelInvocationContext? Context { get; }

    public CancellationToken Cancellation => Context?.CancellationToken ?? CancellationToken.None;

    /// <summary>
    /// Replaces the output with the view's current state (skipped if the last update was under 0.5 s ago, unless
    /// <paramref name="force"/>; always skipped once the view has ended, so a late progress report cannot hide the end).
    /// </summary>
    public void Refresh(bool force = false)
    {
        lock (gate)
        {
            if (View.Ended || (!force && DateTime.UtcNow - last < Interval)) return;
            Show();
        }
    }

    void Show()
    {
        last = DateTime.UtcNow;
        if (displayed is not null) displayed.Update(View);
        else Console.WriteLine(View.Text());
    }

    /// <summary>The final state: shown (a later <see cref="End"/> may correct it), and handed to the session's report once.</summary>
    public void End(string status)
    {
        lock (gate)
        {
            View.Status = status;
            View.Ended = true;
            Show();
            if (collected) return;
            collected = true;
        }
        SessionReport.Collect(View, View.Html);   // rendered when the report is written: the final state
    }
}
