using System.Text.Json.Serialization;

namespace VaeLab.Objectives;

/// <summary>What training minimises.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ObjectiveKind>))]
public enum ObjectiveKind
{
    /// <summary>−E_q[log p(x|z)] + β_t·KL, with β_t ramping from 0 to β over the warm-up steps (β = 1: −ELBO).</summary>
    BetaElbo,

    /// <summary>−IWAE_k (importance-weighted bound with k samples).</summary>
    Iwae,

    /// <summary>−E_q[log p(x|z)] + γ·|KL − C_t|, C_t growing linearly to C_max (Burgess et al. 2018).</summary>
    Capacity,

    /// <summary>−MIWAE(M, K): the mean of M independent IWAE_K bounds (Rainforth et al. 2018); M = K = 1 is the ELBO.</summary>
    Miwae,

    /// <summary>−CIWAE(β) = −(β·ELBO + (1 − β)·IWAE_K) from the same K samples (Rainforth et al. 2018); β = 1 is the ELBO, β = 0 IWAE_K.</summary>
    Ciwae,

    /// <summary>
    /// β-TCVAE (Chen et al. 2018): −E_q[log p(x|z)] + α·(index-code MI) + β_t·(total correlation) + γ·(dimension-wise KL), the
    /// KL split by <see cref="TotalCorrelation"/> over each minibatch (so it is not a mean over examples: it is not split over threads).
    /// </summary>
    BetaTcvae,
}
