using System.Globalization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// A fully connected Gaussian encoder: input (flattened) → hidden ReLU layers → one linear head giving
/// [μ, log σ²] (2d outputs in one matrix product). 784-400-20 is the classic Kingma and Welling / pytorch/examples net.
/// </summary>
public sealed class MlpEncoder : GaussianEncoder
{
    readonly Sequential body;
    readonly Linear head;

    /// <summary>Creates the encoder.</summary>
    /// <param name="inputDimensions">Flattened input size D.</param>
    /// <param name="hiddenSizes">Widths of the hidden ReLU layers (may be empty).</param>
    /// <param name="latentDimensions">Latent size d.</param>
    public MlpEncoder(long inputDimensions, IReadOnlyList<int> hiddenSizes, long latentDimensions) : base(nameof(MlpEncoder), latentDimensions)
    {
        if (inputDimensions < 1) throw new ArgumentOutOfRangeException(nameof(inputDimensions), inputDimensions, "The input needs at least one dimension.");
        InputDimensions = inputDimensions;
        HiddenSizes = hiddenSizes.ToArray();
        body = nn.Sequential();
        long width = HiddenLayers.Append(body, inputDimensions, HiddenSizes);
        head = nn.Linear(width, 2 * latentDimensions);
        RegisterComponents();
    }

    /// <summary>Flattened input size.</summary>
    public long InputDimensions { get; }

    /// <summary>Hidden layer widths.</summary>
    public IReadOnlyList<int> HiddenSizes { get; }

    /// <inheritdoc />
    public override string Signature =>
        $"mlp-encoder({InputDimensions}-{string.Join("-", HiddenSizes.Select(h => h.ToString(CultureInfo.InvariantCulture)))}-{LatentDimensions})";

    /// <summary>The linear layers in the order the input meets them, the [μ, log σ²] head last (each but the head is followed by a ReLU).</summary>
    internal IReadOnlyList<Linear> LinearLayers => body.children().OfType<Linear>().Append(head).ToArray();

    /// <inheritdoc />
    public override (Tensor Mean, Tensor LogVariance) forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor output = head.forward(body.forward(x.flatten(1)));
        Tensor[] parts = output.chunk(2, 1);
        return (parts[0].MoveToOuterDisposeScope(), parts[1].MoveToOuterDisposeScope());
    }
}
