namespace VaeLab.Training;

/// <summary>
/// A barrier for a fixed number of threads that spins while it waits: a phase of a tensor-parallel step lasts about a
/// millisecond, and a thread woken from a kernel wait would lose tens of microseconds on each of the two barriers of every
/// step. <see cref="SpinWait"/> yields the processor when spinning has lasted long (a descheduled partner), never sleeps.
/// </summary>
internal sealed class SpinBarrier
{
    readonly int parties;
    int arrived;
    volatile int generation;

    /// <summary>A barrier for <paramref name="parties"/> threads.</summary>
    public SpinBarrier(int parties)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parties, 1);
        this.parties = parties;
    }

    /// <summary>Returns once all threads have called it (in this round); what each wrote before is visible to all after.</summary>
    public void SignalAndWait()
    {
        int round = generation;
        if (Interlocked.Increment(ref arrived) == parties)
        {
            arrived = 0;
            generation = round + 1;   // volatile write: publishes everything written before it
            return;
        }
        var spinner = new SpinWait();
        while (generation == round) spinner.SpinOnce(sleep1Threshold: -1);
    }
}
