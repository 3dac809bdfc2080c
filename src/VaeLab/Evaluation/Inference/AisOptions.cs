namespace VaeLab.Evaluation.Inference;

/// <summary>
/// Settings of annealed importance sampling (<see cref="AnnealedImportanceSampling"/>). The defaults were measured on the
/// reference Fashion-MNIST model (docs/results.md): at 1,000 intermediate distributions the estimate has stopped moving by more
/// than its standard error. Every transition costs <see cref="LeapfrogSteps"/> decoder passes forward and backward per chain.
/// </summary>
/// <param name="Distributions">Intermediate distributions T between the prior (β = 0) and the posterior (β = 1), on a sigmoid schedule.</param>
/// <param name="Chains">Independent chains per example; the estimate is the log-mean-exp of their weights.</param>
/// <param name="LeapfrogSteps">Leapfrog steps per HMC transition.</param>
/// <param name="InitialStepSize">Leapfrog step size each chain starts with.</param>
/// <param name="TargetAcceptance">Acceptance probability the per-chain step size is adapted toward (about 0.65 is optimal for HMC).</param>
/// <param name="ScheduleRadius">The sigmoid schedule's half-width δ: β_t ∝ sigmoid(δ (2t/T − 1)), rescaled to [0, 1] (Wu et al. 2017 use 4).</param>
/// <param name="RowsPerBatch">Examples × chains decoded together: large enough for large matrix products, small enough for the caches.</param>
/// <param name="PilotChains">
/// Extra chains per example that adapt their step sizes and whose weights are discarded: the kept chains take, before each
/// transition, the pilots' geometric-mean step size, so no kept chain's kernel depends on its own history (which would bias
/// the weights). Reverse AIS runs its pilots forward from the prior first and follows their schedule backwards.
/// </param>
public sealed record AisOptions(
    int Distributions = 1000,
    int Chains = 16,
    int LeapfrogSteps = 10,
    double InitialStepSize = 0.05,
    double TargetAcceptance = 0.65,
    double ScheduleRadius = 4,
    int RowsPerBatch = 2048,
    int PilotChains = 2)
{
    /// <summary>Small settings for tests and the quick mode of notebooks (much looser than the defaults).</summary>
    public static AisOptions Quick { get; } = new(Distributions: 100, Chains: 8, LeapfrogSteps: 5);

    /// <summary>Throws on settings that cannot run.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The setting that is out of range, named.</exception>
    public void Validate()
    {
        if (Distributions < 1) throw new ArgumentOutOfRangeException(nameof(Distributions), Distributions, "AIS needs at least one intermediate distribution.");
        if (Chains < 1) throw new ArgumentOutOfRangeException(nameof(Chains), Chains, "AIS needs at least one chain per example.");
        if (LeapfrogSteps < 1) throw new ArgumentOutOfRangeException(nameof(LeapfrogSteps), LeapfrogSteps, "An HMC transition needs at least one leapfrog step.");
        if (!(InitialStepSize > 0) || double.IsInfinity(InitialStepSize)) throw new ArgumentOutOfRangeException(nameof(InitialStepSize), InitialStepSize, "The step size must be a positive number.");
        if (!(TargetAcceptance > 0 && TargetAcceptance < 1)) throw new ArgumentOutOfRangeException(nameof(TargetAcceptance), TargetAcceptance, "The target acceptance must lie strictly between 0 and 1.");
        if (!(ScheduleRadius > 0) || double.IsInfinity(ScheduleRadius)) throw new ArgumentOutOfRangeException(nameof(ScheduleRadius), ScheduleRadius, "The schedule radius must be a positive number.");
        if (PilotChains < 1) throw new ArgumentOutOfRangeException(nameof(PilotChains), PilotChains, "At least one pilot chain per example adapts the step size.");
        if (RowsPerBatch < Chains + PilotChains) throw new ArgumentOutOfRangeException(nameof(RowsPerBatch), RowsPerBatch, $"A batch must hold at least one example's {Chains} + {PilotChains} chains.");
    }

    /// <summary>Decoder passes (forward and backward, one row each) per example, pilots included: (T − 1)·L·(chains + pilots), what the run time scales with.</summary>
    public long DecoderPassesPerExample => ((long)Math.Max(Distributions - 1, 0) * LeapfrogSteps + 1) * (Chains + PilotChains);
}
