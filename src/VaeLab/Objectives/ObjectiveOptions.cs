namespace VaeLab.Objectives;

/// <summary>
/// The training objective and its schedule, evaluated at the optimiser step; the step is part of a
/// checkpoint, so a resumed run continues the schedule where it stopped.
/// </summary>
/// <param name="Kind">β-ELBO, IWAE or capacity.</param>
/// <param name="Beta">β of the β-ELBO (1 = the ELBO).</param>
/// <param name="WarmupSteps">Steps over which β ramps linearly from 0 to <paramref name="Beta"/> (0 = no warm-up).</param>
/// <param name="IwaeSamples">k of the IWAE objective, and K of MIWAE and CIWAE.</param>
/// <param name="CapacityGamma">γ of the capacity objective.</param>
/// <param name="CapacityMaxNats">C_max, the KL capacity reached at the end of the annealing, in nats.</param>
/// <param name="CapacitySteps">Steps over which C grows linearly from 0 to C_max.</param>
/// <param name="MiwaeGroups">M of MIWAE(M, K): independent IWAE_K bounds averaged (M·K samples per example).</param>
/// <param name="CiwaeBeta">β of CIWAE, in [0, 1]: the ELBO's share.</param>
/// <param name="TcAlpha">α of β-TCVAE: the weight of the index-code mutual information (its β is <paramref name="Beta"/>, on the total correlation).</param>
/// <param name="TcGamma">γ of β-TCVAE: the weight of the dimension-wise KL.</param>
/// <param name="TcDatasetSize">N of β-TCVAE's estimator: the number of training examples (the CLI sets it from the data).</param>
/// <param name="TcEstimator">How β-TCVAE estimates the aggregate posterior from a minibatch.</param>
public sealed record ObjectiveOptions(
    ObjectiveKind Kind = ObjectiveKind.BetaElbo,
    double Beta = 1.0,
    long WarmupSteps = 0,
    int IwaeSamples = 5,
    double CapacityGamma = 1000,
    double CapacityMaxNats = 25,
    long CapacitySteps = 100_000,
    int MiwaeGroups = 1,
    double CiwaeBeta = 0.5,
    double TcAlpha = 1,
    double TcGamma = 1,
    long TcDatasetSize = 0,
    TcEstimator TcEstimator = TcEstimator.MinibatchWeighted)
{
    /// <summary>Checks the settings, naming the first invalid one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative β, warm-up, γ or capacity, or k below 1.</exception>
    public void Validate()
    {
        if (!(Beta >= 0)) throw new ArgumentOutOfRangeException(nameof(Beta), Beta, "β must be a non-negative number.");
        if (WarmupSteps < 0) throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "The warm-up must not be negative.");
        if (IwaeSamples < 1) throw new ArgumentOutOfRangeException(nameof(IwaeSamples), IwaeSamples, "IWAE needs k ≥ 1 samples.");
        if (MiwaeGroups < 1) throw new ArgumentOutOfRangeException(nameof(MiwaeGroups), MiwaeGroups, "MIWAE needs M ≥ 1 groups.");
        if (!(CiwaeBeta >= 0 && CiwaeBeta <= 1)) throw new ArgumentOutOfRangeException(nameof(CiwaeBeta), CiwaeBeta, "CIWAE's β must lie in [0, 1].");
        if (!(TcAlpha >= 0) || !(TcGamma >= 0)) throw new ArgumentOutOfRangeException(nameof(TcAlpha), "β-TCVAE's α and γ must be non-negative numbers.");
        if (Kind == ObjectiveKind.BetaTcvae && TcDatasetSize < 2)
            throw new ArgumentOutOfRangeException(nameof(TcDatasetSize), TcDatasetSize, "β-TCVAE needs the training set's size N (TcDatasetSize, at least 2) for its estimate of q(z).");
        if (!(CapacityGamma >= 0)) throw new ArgumentOutOfRangeException(nameof(CapacityGamma), CapacityGamma, "γ must be a non-negative number.");
        if (!(CapacityMaxNats >= 0)) throw new ArgumentOutOfRangeException(nameof(CapacityMaxNats), CapacityMaxNats, "C_max must be a non-negative number of nats.");
        if (CapacitySteps < 1) throw new ArgumentOutOfRangeException(nameof(CapacitySteps), CapacitySteps, "The capacity annealing needs at least one step.");
    }

    /// <summary>β in force at optimiser step <paramref name="step"/> (0-based): β·min(1, (step + 1)/warm-up).</summary>
    public double BetaAt(long step) => WarmupSteps <= 0 ? Beta : Beta * Math.Min(1.0, (step + 1) / (double)WarmupSteps);

    /// <summary>The capacity C in force at step <paramref name="step"/>, nats.</summary>
    public double CapacityAt(long step) => CapacityMaxNats * Math.Min(1.0, (step + 1) / (double)CapacitySteps);
}
