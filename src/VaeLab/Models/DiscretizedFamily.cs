namespace VaeLab.Models;

/// <summary>The continuous distribution a <see cref="DiscretizedLikelihood"/> integrates over each pixel bin.</summary>
public enum DiscretizedFamily
{
    /// <summary>A Gaussian N(μ, σ²): bin masses are differences of Φ.</summary>
    Gaussian,

    /// <summary>A logistic with location μ and scale s: bin masses are differences of the sigmoid (PixelCNN++).</summary>
    Logistic,
}
