// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title HostileWallet
/// @notice A broken or hostile ERC-1271 contract wallet for the tests (issue 12). Not part
/// of the package. `mode` 0 accepts any signature at all, 1 burns every unit of gas it is
/// given, 2 answers with 10 KB of data that starts with the magic value.
contract HostileWallet {
    uint256 public immutable mode;

    constructor(uint256 mode_) {
        mode = mode_;
    }

    /// @notice The magic value (mode 0), nothing ever (mode 1), or a huge answer (mode 2).
    function isValidSignature(bytes32, bytes memory) external view returns (bytes4) {
        if (mode == 1) {
            uint256 spin;
            while (gasleft() > 0) ++spin;
        }
        if (mode == 2) {
            assembly ("memory-safe") {
                mstore(0, 0x1626ba7e00000000000000000000000000000000000000000000000000000000)
                return(0, 0x2800)
            }
        }
        return 0x1626ba7e;
    }
}
