using System.Globalization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// A fully connected encoder: input (flattened) → hidden ReLU layers → one linear head giving the posterior's parameters
/// ([μ, log σ²] for a diagonal Gaussian, 2d outputs in one matrix product). 784-400-20 is the classic Kingma and Welling /
/// pytorch/examples net.
/// </summary>
public sealed class MlpEncoder : Encoder
{
    readonly Sequential body;
    readonly Linear head;

    /// <summary>Creates the encoder.</summary>
    /// <param name="inputDimensions">Flattened input size D.</param>
    /// <param name="hiddenSizes">Widths of the hidden ReLU layers (may be empty).</param>
    /// <param name="latentDimensions">Latent size d.</param>
    /// <param name="outputSize">Numbers per example, the posterior family's parameter count (null: 2d).</param>
    public MlpEncoder(long inputDimensions, IReadOnlyList<int> hiddenSizes, long latentDimensions, long? outputSize = null) : base(nameof(MlpEncoder), latentDimensions, outputSize)
    {
        if (inputDimensions < 1) throw new ArgumentOutOfRangeException(nameof(inputDimensions), inputDimensions, "The input needs at least one dimension.");
        InputDimensions = inputDimensions;
        HiddenSizes = hiddenSizes.ToArray();
        body = nn.Sequential();
        long width = HiddenLayers.Append(body, inputDimensions, HiddenSizes);
        head = nn.Linear(width, OutputSize);
        RegisterComponents();
    }

    /// <summary>Flattened input size.</summary>
    public long InputDimensions { get; }

    /// <summary>Hidden layer widths.</summary>
    public IReadOnlyList<int> HiddenSizes { get; }

    /// <inheritdoc />
    public override string Signature =>
        $"mlp-encoder({InputDimensions}-{string.Join("-", HiddenSizes.Select(h => h.ToString(CultureInfo.InvariantCulture)))}-{LatentDimensions}){OutputSuffix}";

    /// <summary>The linear layers in the order the input meets them, the head last (each but the head is followed by a ReLU).</summary>
    internal IReadOnlyList<Linear> LinearLayers => body.children().OfType<Linear>().Append(head).ToArray();

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return head.forward(body.forward(x.flatten(1))).MoveToOuterDisposeScope();
    }
}
