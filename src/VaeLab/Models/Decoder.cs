using static TorchSharp.torch;

namespace VaeLab.Models;

/// <summary>
/// A decoder network: maps latents [N, d] to the likelihood's parameters [N, D·k] (logits, means, and log σ
/// when the decoder outputs it). Implement it to plug in your own architecture.
/// </summary>
public abstract class Decoder : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module.</summary>
    protected Decoder(string name) : base(name) { }

    /// <summary>A stable text naming the architecture and its sizes, part of a checkpoint's signature.</summary>
    public abstract string Signature { get; }
}
