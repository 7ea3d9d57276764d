// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @notice OpenZeppelin's ERC721 with a public mint: the reference the passports' own
/// ERC-721 is compared with (tests/test_erc721_conformance.py).
contract ReferenceERC721 is ERC721 {
    constructor() ERC721("reference", "REF") {}

    /// @notice Mints `id` to `to`.
    function mint(address to, uint256 id) external {
        _mint(to, id);
    }
}
